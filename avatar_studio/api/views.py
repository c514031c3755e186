"""The JSON API's endpoints: create, list, read, retry and delete one's own avatars.

Thin, like the browser views: intake through ``avatars.images``, changes through
``avatars.services``, reads through ``avatars.selectors``. A refused action is answered by the
error handler (``errors``) in the refusal's own words. Every avatar endpoint is owner-only;
anyone else gets 404, never 403.
"""

import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from avatar_studio.avatars import options, quota, selectors, services
from avatar_studio.avatars.media import private_file_response

from . import deliveries
from .serializers import (
    AvatarCostAnswerSerializer,
    AvatarCostSerializer,
    AvatarCreatedSerializer,
    AvatarCreateJSONSerializer,
    AvatarCreateMultipartSerializer,
    AvatarCreateSerializer,
    AvatarSerializer,
    AvatarWebhookEventSerializer,
    CandidateSerializer,
    RetrySerializer,
    webhook_callback,
)


class AvatarCreateThrottle(UserRateThrottle):
    """Avatars made per user: each one spends FASHN credits, so it has its own, lower rate."""

    scope = "avatar_create"


class AvatarPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        # DRF quietly ignores a bad page_size; say so instead, as for any other bad field.
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        if not value.isdigit() or not 1 <= int(value) <= self.max_page_size:
            message = f"Choose a whole number from 1 to {self.max_page_size}."
            raise ValidationError({"page_size": [message]})
        return int(value)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            "page": {"minimum": 1},
            "page_size": {"minimum": 1, "maximum": self.max_page_size},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


def _error_responses(*codes):
    descriptions = {
        400: "Invalid input: the error's fields say which and why.",
        401: "Not authenticated.",
        404: "No such avatar (or not yours).",
        409: "The avatar's state does not allow this (e.g. only a failed avatar can be retried).",
        413: "The request body is too large.",
        429: "Too many requests.",
    }
    return {code: OpenApiResponse(OpenApiTypes.OBJECT, descriptions[code]) for code in codes}


CREDITS_LEFT_HEADER = "X-Credits-Left-Today"


def _credits_left(user):
    """The header telling a client how many credits of today's allowance are left (staff have
    no allowance, so none)."""
    return {} if quota.is_exempt(user) else {CREDITS_LEFT_HEADER: str(quota.left_today(user))}


class AvatarCost(APIView):
    @extend_schema(
        operation_id="avatars_cost",
        parameters=[AvatarCostSerializer],
        responses={200: AvatarCostAnswerSerializer, **_error_responses(400, 401, 429)},
    )
    def get(self, request):
        """What an avatar with these choices would cost in credits, and its size in pixels,
        before you send it. Choices left out take this service's defaults, as on create."""
        # A plain dict, not the QueryDict: DRF reads an empty form value as "left out", and
        # ``resolution=`` is a value not offered, refused like any other.
        serializer = AvatarCostSerializer(data=request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        chosen = serializer.validated_data
        width, height = options.image_size(chosen["resolution"], chosen["aspect_ratio"])
        answer = {**chosen, "width": width, "height": height}
        answer["credits"] = options.estimated_credits(chosen)
        return Response(
            AvatarCostAnswerSerializer(answer).data, headers=_credits_left(request.user)
        )


class AvatarListCreate(APIView):
    pagination_class = AvatarPagination

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles.append(AvatarCreateThrottle())
        return throttles

    @extend_schema(
        operation_id="avatars_list",
        parameters=[
            OpenApiParameter(
                "status",
                str,
                enum=list(selectors.GALLERY_FILTERS),
                description="Only avatars in progress, completed or failed.",
            ),
        ],
        responses={200: AvatarSerializer(many=True), **_error_responses(400, 401, 404, 429)},
    )
    def get(self, request):
        """Your avatars, newest first, paginated."""
        filter_name = request.query_params.get("status", "all")
        if filter_name not in selectors.GALLERY_FILTERS:
            names = ", ".join(selectors.GALLERY_FILTERS)
            raise ValidationError({"status": [f"Choose one of: {names}."]})
        jobs = selectors.gallery_jobs(request.user, filter_name).select_related(
            "api_webhook__last_delivery"
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(jobs, request, view=self)
        data = AvatarSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="avatars_create",
        request={
            "multipart/form-data": AvatarCreateMultipartSerializer,
            "application/json": AvatarCreateJSONSerializer,
        },
        responses={201: AvatarCreatedSerializer, **_error_responses(400, 401, 413, 429)},
        callbacks=[webhook_callback("avatarEvent", AvatarWebhookEventSerializer)],
    )
    def post(self, request):
        """Make an avatar from a selfie. The avatar is made in the background: follow its url."""
        serializer = AvatarCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        selfie = serializer.validated_data["face_image"]
        webhook_url = serializer.validated_data.get("webhook_url")

        def save_webhook(job):
            # In the job's own transaction: its submission is sent only once this is saved too.
            deliveries.new_webhook(webhook_url, request.build_absolute_uri("/"), job=job)

        job = services.create_avatar(
            owner=request.user,
            selfie=selfie,
            inputs=serializer.job_inputs(),
            in_same_transaction=save_webhook if webhook_url else None,
        )
        data = AvatarSerializer(job, context={"request": request}).data
        # The secret is shown here, once; reads show the URL and delivery state only.
        data["webhook"] = AvatarCreatedSerializer().get_webhook(job)
        data["warnings"] = [selfie.small_photo_warning] if selfie.is_small else []
        headers = {"Location": data["url"], **_credits_left(request.user)}
        return Response(data, status=status.HTTP_201_CREATED, headers=headers)


class AvatarDetail(APIView):
    @extend_schema(
        operation_id="avatars_retrieve",
        responses={200: AvatarSerializer, **_error_responses(401, 404, 429)},
    )
    def get(self, request, job_id):
        """One avatar: its status, progress, error and result images."""
        job = selectors.get_owned_job(request.user, job_id)
        return Response(AvatarSerializer(job, context={"request": request}).data)

    @extend_schema(
        operation_id="avatars_destroy",
        responses={204: None, **_error_responses(401, 404, 429)},
    )
    def delete(self, request, job_id):
        """Delete an avatar, its selfie and its images, at once."""
        job = selectors.get_owned_job(request.user, job_id)
        services.delete_avatar(job)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AvatarRetry(APIView):
    @extend_schema(
        operation_id="avatars_retry",
        request=RetrySerializer,
        responses={202: AvatarSerializer, **_error_responses(400, 401, 404, 409, 429)},
    )
    def post(self, request, job_id):
        """Try a failed avatar again, with the same seed or a new one."""
        job = selectors.get_owned_job(request.user, job_id)
        serializer = RetrySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.retry_job(job, new_seed=serializer.validated_data["new_seed"])
        job.refresh_from_db()
        data = AvatarSerializer(job, context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers=_credits_left(request.user))


class AvatarPick(APIView):
    @extend_schema(
        operation_id="avatars_pick",
        request=CandidateSerializer,
        responses={200: AvatarSerializer, **_error_responses(400, 401, 404, 409, 429)},
    )
    def post(self, request, job_id):
        """Pick one image of a completed avatar as the avatar: the one picture the gallery,
        share links and the store show (its chosen_index)."""
        job = selectors.get_owned_job(request.user, job_id)
        serializer = CandidateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.pick_candidate(job, index=serializer.validated_data["index"])
        return Response(AvatarSerializer(job, context={"request": request}).data)


class AvatarDiscardOthers(APIView):
    @extend_schema(
        operation_id="avatars_discard_others",
        request=None,
        responses={200: AvatarSerializer, **_error_responses(401, 404, 409, 429)},
    )
    def post(self, request, job_id):
        """Delete every image of a completed avatar but its chosen one, files included."""
        job = selectors.get_owned_job(request.user, job_id)
        services.discard_other_candidates(job)
        job = selectors.get_owned_job(request.user, job_id)
        return Response(AvatarSerializer(job, context={"request": request}).data)


class AvatarRemake(APIView):
    def get_throttles(self):
        # A remake is a new avatar: it spends credits like one.
        return [*super().get_throttles(), AvatarCreateThrottle()]

    @extend_schema(
        operation_id="avatars_remake",
        request=CandidateSerializer,
        responses={201: AvatarSerializer, **_error_responses(400, 401, 404, 409, 429)},
    )
    def post(self, request, job_id):
        """Make one image of a completed avatar again, alone, at the best quality and largest
        size offered: a new avatar (its origin is this one) that costs and counts like any new
        avatar. Refused (selfie_gone) once the selfie has been deleted under the retention
        policy: upload it again to make a new avatar."""
        job = selectors.get_owned_job(request.user, job_id)
        serializer = CandidateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        remake = services.remake_in_high_quality(job, index=serializer.validated_data["index"])
        data = AvatarSerializer(remake, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": data["url"]})


class FileRenderer(BaseRenderer):
    """Lets a file endpoint answer whatever image type a client accepts; errors stay JSON."""

    media_type = "*/*"
    format = "file"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data).encode() if data is not None else b""


class _ResultFileView(APIView):
    renderer_classes = [JSONRenderer, FileRenderer]
    field_name = "image"

    @extend_schema(
        responses={
            (200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, "The image file."),
            **_error_responses(401, 404, 429),
        },
    )
    def get(self, request, job_id, index):
        job = selectors.get_owned_job(request.user, job_id)
        result = selectors.job_result(job, index)
        return private_file_response(getattr(result, self.field_name))


class AvatarResultImage(_ResultFileView):
    """One result image of a completed avatar."""

    field_name = "image"


class AvatarResultThumbnail(_ResultFileView):
    """A small JPEG preview of one result image."""

    field_name = "thumbnail"
