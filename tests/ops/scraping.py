"""Reading /metrics as Prometheus does: the answer parsed by prometheus-client's own parser."""

from prometheus_client.parser import text_string_to_metric_families

TOKEN = "metrics-token-for-the-tests-0123456789abcdef"


def parse(text):
    """``{(sample name, ((label, value), ...)): value}`` for every sample in the answer."""
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, metric, **labels):
    return samples[(metric, tuple(sorted(labels.items())))]


def series(samples, name):
    """The samples of one name: ``{((label, value), ...): value}``."""
    return {labels: found for (sample, labels), found in samples.items() if sample == name}


def counted(samples, name):
    """The series of one name that have counted something (the others are answered as 0)."""
    return {labels: found for labels, found in series(samples, name).items() if found}


def buckets(samples, metric, **labels):
    """A histogram's cumulative buckets as ``{le: count}``, its sum and its count."""
    found = {}
    for labels_found, count in series(samples, f"{metric}_bucket").items():
        labels_found = dict(labels_found)
        le = labels_found.pop("le")
        if labels_found == labels:
            found[le] = count
    total = value(samples, f"{metric}_sum", **labels)
    return found, total, value(samples, f"{metric}_count", **labels)
