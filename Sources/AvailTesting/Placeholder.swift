enum _AvailTestingPlaceholder {}
