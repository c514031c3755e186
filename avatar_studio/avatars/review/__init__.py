"""Public display of avatars: the owner offers or withdraws, staff approve or reject."""
