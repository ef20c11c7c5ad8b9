"""The PySide6 layer: a thin shell over lab.core. No logic lives here."""
