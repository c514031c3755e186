"""The "Reviewers" group: staff who review avatars and retry failed jobs, and nothing more.

Members (who also need ``is_staff`` to open the admin) can see jobs, approve or reject avatars for
public display, retry or re-run failed jobs and open the operations dashboard. They cannot change
or delete jobs, users, groups or anything else: no other permission is given.
"""

from django.db import migrations

GROUP_NAME = "Reviewers"
PERMISSIONS = [
    "view_avatarjob",
    "review_avatarjob",
    "retry_avatarjob",
    # The job page's inlines: its attempts and images.
    "view_predictionattempt",
    "view_avatarresult",
]


def create_reviewers_group(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate); on a fresh database
    # they do not exist yet at this point, so create this app's now.
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("avatars")
    if getattr(app_config, "models_module", None) is None:  # a stub would be skipped
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name=GROUP_NAME)
    permissions = Permission.objects.filter(
        content_type__app_label="avatars", codename__in=PERMISSIONS
    )
    group.permissions.add(*permissions)


def remove_reviewers_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("avatars", "0003_review_state"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_reviewers_group, remove_reviewers_group)]
