"""Data files shipped with the lab: icons, style sheets, the default price table, the sample workspace."""
