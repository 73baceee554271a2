"""Commercial channels of issue 11: white label, kits, version lifecycle and maintenance."""
