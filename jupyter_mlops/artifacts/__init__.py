"""The content-addressed artifact store and its serializers."""
