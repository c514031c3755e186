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


def value(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


def series(samples, name):
    """The samples of one name: ``{((label, value), ...): value}``."""
    return {labels: found for (sample, labels), found in samples.items() if sample == name}


def buckets(samples, name, **labels):
    """A histogram's cumulative buckets as ``{le: count}``, its sum and its count."""
    found = {}
    for labels_found, count in series(samples, f"{name}_bucket").items():
        labels_found = dict(labels_found)
        le = labels_found.pop("le")
        if labels_found == labels:
            found[le] = count
    return found, value(samples, f"{name}_sum", **labels), value(samples, f"{name}_count", **labels)
