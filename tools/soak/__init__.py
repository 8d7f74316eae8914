"""The soak: a fresh local stack under load and a schedule of real faults, and the
figures that prove (or disprove) that nothing accepted is lost or completed twice."""
