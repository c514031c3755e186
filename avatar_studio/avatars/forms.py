"""The upload form. Field names follow the FASHN protocol's inputs."""

from django import forms
from django.conf import settings

from avatar_studio.fashn import ASPECT_RATIOS, OUTPUT_FORMATS

from .images import SelfieRejected, normalise_selfie

PROMPT_SUGGESTIONS = ["athletic build", "curvy figure", "slender frame"]
MAX_SEED = 2**32 - 1


class AvatarRequestForm(forms.Form):
    face_image = forms.FileField(
        label="Selfie",
        help_text="A JPEG, PNG, WebP or HEIC photo of your face, up to 15 MB.",
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,.heic,.heif"}
        ),
    )
    prompt = forms.CharField(
        label="Body shape",
        required=False,
        max_length=500,
        help_text="For example: " + ", ".join(PROMPT_SUGGESTIONS) + ". Leave empty to infer it.",
        widget=forms.TextInput(attrs={"list": "prompt-suggestions", "autocomplete": "off"}),
    )
    aspect_ratio = forms.ChoiceField(
        choices=[(ratio, ratio) for ratio in ASPECT_RATIOS], initial="2:3", widget=forms.RadioSelect
    )
    seed = forms.IntegerField(min_value=0, max_value=MAX_SEED, initial=42)
    output_format = forms.ChoiceField(
        choices=[(value, value.upper()) for value in OUTPUT_FORMATS], initial="jpeg"
    )
    return_base64 = forms.BooleanField(
        label="Private mode: FASHN returns the image directly and keeps no copy",
        required=False,
    )

    def clean_face_image(self):
        upload = self.cleaned_data["face_image"]
        try:
            self.selfie = normalise_selfie(upload, max_bytes=settings.SELFIE_MAX_UPLOAD_BYTES)
        except SelfieRejected as rejection:
            raise forms.ValidationError(str(rejection), code="invalid_selfie") from None
        return upload

    def job_inputs(self):
        data = self.cleaned_data
        return {
            "prompt": data["prompt"].strip(),
            "aspect_ratio": data["aspect_ratio"],
            "seed": data["seed"],
            "output_format": data["output_format"],
            "return_base64": data["return_base64"],
        }
