"""The upload form, named after the FASHN protocol's inputs, and the small owner-action forms."""

from django import forms
from django.conf import settings

from avatar_studio import fashn

from . import options
from .consent import consent_text
from .images import EMPTY_FILE, SelfieRejected, browser_checks, check_selfie, megabytes

PROMPT_SUGGESTIONS = ["athletic build", "curvy figure", "slender frame"]
_FORMAT_LABELS = {"jpeg": "JPEG (smaller file)", "png": "PNG (lossless)"}
ACCEPTED_TYPES = "image/jpeg,image/png,image/webp,image/avif,image/heic,image/heif,.heic,.heif"


class AvatarRequestForm(forms.Form):
    face_image = forms.FileField(
        label="Your selfie",
        widget=forms.FileInput(attrs={"accept": ACCEPTED_TYPES}),
        error_messages={"required": "Choose a photo of your face to upload.", "empty": EMPTY_FILE},
    )
    prompt = forms.CharField(
        label="Body shape",
        required=False,
        max_length=300,
        help_text="Pick a suggestion or describe it in your own words. Leave it empty to let "
        "the face decide.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "e.g. athletic build"}),
    )
    aspect_ratio = forms.ChoiceField(
        label="Aspect ratio",
        choices=[(ratio, ratio) for ratio in fashn.ASPECT_RATIOS],
        initial=fashn.DEFAULT_ASPECT_RATIO,
        widget=forms.RadioSelect,
        help_text="The image is extended downward to fit.",
    )
    # Choices, initial values and labels come from ``options`` when the form is made, so that
    # the settings' defaults and maxima apply; blank means the default (older clients).
    generation_mode = forms.ChoiceField(label="Quality", required=False, widget=forms.RadioSelect)
    resolution = forms.ChoiceField(label="Image size", required=False, widget=forms.RadioSelect)
    num_images = forms.TypedChoiceField(
        label=options.NUM_IMAGES_LABEL,
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.RadioSelect,
    )
    seed = forms.IntegerField(
        label="Seed (a number that fixes the result)",
        min_value=fashn.SEED_MIN,
        max_value=fashn.SEED_MAX,
        initial=fashn.DEFAULT_SEED,
        required=False,
        help_text="The same selfie, settings and seed give the same avatar.",
    )
    surprise_me = forms.BooleanField(label="Surprise me (a random seed)", required=False)
    output_format = forms.ChoiceField(
        label="File format",
        choices=[(value, _FORMAT_LABELS[value]) for value in fashn.OUTPUT_FORMATS],
        initial=fashn.DEFAULT_OUTPUT_FORMAT,
    )
    return_base64 = forms.BooleanField(
        label="Private delivery: the image comes straight back to us and the avatar service "
        "keeps no copy",
        required=False,
    )
    consent = forms.BooleanField(
        required=True,
        error_messages={"required": "Please tick the box to agree before uploading your selfie."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consent"].label = consent_text()
        # The limit and the refusals in the intake's words, for the browser to apply at once.
        max_bytes = settings.SELFIE_MAX_UPLOAD_BYTES
        face_image = self.fields["face_image"]
        face_image.help_text = (
            f"A JPEG, PNG, WebP or HEIC photo of your face, up to {megabytes(max_bytes)} MB."
        )
        face_image.widget.attrs.update(browser_checks(max_bytes))
        self.options = options.current()
        ratio = self._chosen_aspect_ratio()
        labels = {
            "generation_mode": options.MODE_LABELS,
            "resolution": {
                size: options.resolution_label(size, ratio) for size in self.options.resolutions
            },
            "num_images": {count: str(count) for count in self.options.num_images_choices},
        }
        for name, default in self.options.defaults().items():
            field = self.fields[name]
            field.choices = [(value, labels[name][value]) for value in self.options.allowed(name)]
            field.initial = default
            plain = options.PLAIN_NAMES[name]
            message = options.not_offered_message(name, self.options, name=plain)
            field.error_messages["invalid_choice"] = message
        self.fields["num_images"].label = options.num_images_label(self.options)
        self.fields["num_images"].help_text = "Each image costs its credits."

    # The fields a link may fill in beforehand (never the photo or the consent).
    PREFILLABLE = (
        "prompt",
        "aspect_ratio",
        "generation_mode",
        "resolution",
        "num_images",
        "seed",
        "output_format",
        "return_base64",
    )

    @classmethod
    def initial_from(cls, query):
        """Starting values from a link's query string (the job page's "upload your selfie again
        to make it in high quality"): the ``PREFILLABLE`` fields it names, each as this form
        cleans it; a value the form would refuse is left at its default."""
        names = [name for name in cls.PREFILLABLE if name in query]
        if not names:
            return {}
        trial = cls(data=query)
        trial.is_valid()
        return {name: trial.cleaned_data[name] for name in names if name in trial.cleaned_data}

    def _chosen_aspect_ratio(self):
        ratio = self.data.get("aspect_ratio") if self.is_bound else self.initial.get("aspect_ratio")
        return ratio if ratio in fashn.ASPECT_RATIOS else fashn.DEFAULT_ASPECT_RATIO

    def chosen_options(self):
        """The three options as chosen so far: what was sent where it is valid (or what a link
        filled in), else the defaults. The page shows their cost, before and after a refused
        submission."""
        chosen = self.options.defaults()
        for name in chosen:
            if self.initial.get(name) not in (None, ""):
                chosen[name] = self.initial[name]
        if self.is_bound:
            cleaned = getattr(self, "cleaned_data", {})
            for name in chosen:
                if cleaned.get(name) not in (None, ""):
                    chosen[name] = cleaned[name]
        return chosen

    def estimated_credits(self):
        return options.estimated_credits(self.chosen_options())

    def clean_face_image(self):
        upload = self.cleaned_data["face_image"]
        try:
            self.selfie = check_selfie(upload, max_bytes=settings.SELFIE_MAX_UPLOAD_BYTES)
        except SelfieRejected as rejection:
            raise forms.ValidationError(str(rejection), code="invalid_selfie") from None
        return upload

    def clean(self):
        data = super().clean()
        if data.get("surprise_me"):
            data["seed"] = fashn.random_seed()
        elif data.get("seed") is None and "seed" not in self.errors:
            data["seed"] = fashn.DEFAULT_SEED
        for name, default in self.options.defaults().items():
            if name not in self.errors and data.get(name) in (None, ""):
                data[name] = default
        return data

    def job_inputs(self):
        return job_inputs_from(self.cleaned_data)


def job_inputs_from(data):
    """The job's FASHN inputs from validated form or API data (the same fields in both)."""
    return {
        "prompt": data["prompt"].strip(),
        "aspect_ratio": data["aspect_ratio"],
        "seed": data["seed"],
        "output_format": data["output_format"],
        "return_base64": data["return_base64"],
        "generation_mode": data["generation_mode"],
        "resolution": data["resolution"],
        "num_images": data["num_images"],
    }


class RetryForm(forms.Form):
    new_seed = forms.BooleanField(required=False)


SHARE_DURATIONS = [(1, "1 day"), (7, "7 days"), (30, "30 days")]


class ShareLinkForm(forms.Form):
    days = forms.TypedChoiceField(
        label="Link works for",
        choices=SHARE_DURATIONS,
        coerce=int,
        initial=settings.SHARE_LINK_DEFAULT_DAYS,
    )

    @classmethod
    def remembering(cls, query):
        """An empty form that starts from the duration named in ``query`` ("days", as the page
        is reached after creating a link), when it is one of the choices."""
        chosen = cls({"days": query.get("days")})
        return cls(initial=chosen.cleaned_data) if chosen.is_valid() else cls()
