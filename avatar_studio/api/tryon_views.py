"""The try-on API: dress one of your avatars in a store product or in a garment picture your
shop sends; read, list and delete your try-ons; fetch the picture.

Thin, like the avatar endpoints (``views``): intake through ``tryon_serializers``, the try-on
itself through ``shop.services`` (the shopper's own, cached per avatar image, garment and model),
with its webhook through ``deliveries``, reads through ``shop.selectors``. Another user's try-on
is 404, never 403.
"""

from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from avatar_studio.avatars.media import private_file_response
from avatar_studio.shop import images
from avatar_studio.shop import selectors as shop_selectors
from avatar_studio.shop import services as shop_services

from . import deliveries
from .models import Webhook
from .serializers import webhook_callback
from .tryon_serializers import (
    CreatedTryOnWebhookSerializer,
    TryOnCreatedSerializer,
    TryOnCreateJSONSerializer,
    TryOnCreateMultipartSerializer,
    TryOnCreateSerializer,
    TryOnSerializer,
    TryOnWebhookEventSerializer,
)
from .views import AvatarCreateThrottle, AvatarPagination, FileRenderer, _credits_left

NO_SUCH_TRYON = "No such try-on."
NO_PICTURE_YET = "This try-on has no picture yet: it is made once its status is completed."

_DESCRIPTIONS = {
    400: "Invalid input: the error's fields say which and why.",
    401: "Not authenticated.",
    404: "No such try-on (or not yours).",
    409: "The try-on cannot be made (e.g. the product has no photo).",
    413: "The request body is too large.",
    429: "Too many requests.",
}


def _own_look(user, look_id):
    """The caller's try-on; anyone else's answers as a missing one does, in the try-on's words."""
    try:
        return shop_selectors.own_look(user, look_id)
    except Http404:
        raise NotFound(NO_SUCH_TRYON) from None


def _errors(*codes):
    return {code: OpenApiResponse(OpenApiTypes.OBJECT, _DESCRIPTIONS[code]) for code in codes}


class TryOnListCreate(APIView):
    pagination_class = AvatarPagination

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.request.method == "POST":
            # A try-on spends FASHN credits like an avatar: the same, shared, lower rate.
            throttles.append(AvatarCreateThrottle())
        return throttles

    @extend_schema(
        operation_id="tryons_list",
        responses={200: TryOnSerializer(many=True), **_errors(400, 401, 404, 429)},
    )
    def get(self, request):
        """Your try-ons of your own avatars, newest first, paginated."""
        paginator = self.pagination_class()
        # Each try-on's webhooks, newest first, with their newest delivery: one query a page.
        webhooks = Prefetch("api_webhooks", Webhook.objects.select_related("last_delivery"))
        looks = shop_selectors.own_looks(request.user).prefetch_related(webhooks)
        page = paginator.paginate_queryset(looks, request, self)
        products = shop_selectors.products_for_tryons([look.tryon for look in page])
        context = {"request": request, "products": products}
        return paginator.get_paginated_response(
            TryOnSerializer(page, many=True, context=context).data
        )

    @extend_schema(
        operation_id="tryons_create",
        request={
            "multipart/form-data": TryOnCreateMultipartSerializer,
            "application/json": TryOnCreateJSONSerializer,
        },
        responses={201: TryOnCreatedSerializer, **_errors(400, 401, 409, 413, 429)},
        callbacks=[webhook_callback("tryonEvent", TryOnWebhookEventSerializer)],
    )
    def post(self, request):
        """Dress one of your completed avatars in a published product (product) or in a garment
        picture (garment_image and category). The try-on is made in the background: follow its
        url, or give a webhook_url and we POST tryon.completed or tryon.failed to it. It reserves
        its credits from your daily allowance, as an avatar does (429 quota_exceeded when too few
        are left); asking again for the same avatar, garment and model answers with the same
        try-on and costs nothing."""
        serializer = TryOnCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        chosen = serializer.validated_data
        avatar_result = chosen["avatar"]

        def start_tryon():
            if "product" in chosen:
                return shop_services.try_on(
                    request.user, chosen["product"], avatar_result, model_name=chosen["model"]
                )
            png = chosen["garment_png"]
            return shop_services.try_on_garment(
                request.user,
                images.garment_key(png),
                lambda: png,
                chosen["category"],
                avatar_result,
                model_name=chosen["model"],
            )

        look, webhook = deliveries.add_to_tryon(
            start_tryon, chosen["webhook_url"], request.build_absolute_uri("/")
        )
        look = shop_selectors.own_look(request.user, look.pk)
        data = TryOnSerializer(look, context={"request": request}).data
        # The secret is shown here, once; reads show the URL and delivery state only.
        data["webhook"] = None if webhook is None else CreatedTryOnWebhookSerializer(webhook).data
        headers = {"Location": data["url"], **_credits_left(request.user)}
        return Response(data, status=status.HTTP_201_CREATED, headers=headers)


class TryOnDetail(APIView):
    @extend_schema(
        operation_id="tryons_retrieve",
        responses={200: TryOnSerializer, **_errors(401, 404, 429)},
    )
    def get(self, request, look_id):
        """One try-on: its status, progress and, once completed, its picture's URL."""
        look = _own_look(request.user, look_id)
        return Response(TryOnSerializer(look, context={"request": request}).data)

    @extend_schema(
        operation_id="tryons_destroy",
        responses={204: None, **_errors(401, 404, 429)},
    )
    def delete(self, request, look_id):
        """Delete your try-on, its picture, the garment image sent for it, and its webhooks with
        their deliveries still to send."""
        look = _own_look(request.user, look_id)
        shop_services.delete_tryon(look)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TryOnImage(APIView):
    renderer_classes = [JSONRenderer, FileRenderer]

    @extend_schema(
        operation_id="tryons_image",
        responses={
            (200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, "The try-on picture."),
            **_errors(401, 404, 429),
        },
    )
    def get(self, request, look_id):
        """The try-on picture of a completed try-on."""
        look = _own_look(request.user, look_id)
        result = look.tryon.job.results.order_by("index").first()
        if result is None:
            raise NotFound(NO_PICTURE_YET)
        return private_file_response(result.image)
