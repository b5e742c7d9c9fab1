"""Zoom from a touchpad as from a mouse wheel: every view reads its wheel and pinch events here.

A touchpad's two-finger scroll may come as pixels only (no angle: Wayland, macOS, some X11
drivers for slow movements); a pinch comes as a native zoom gesture (X11 with XInput 2.4, Wayland,
macOS), not as a wheel event at all.
"""

from __future__ import annotations

from PyQt6.QtCore import QEvent, Qt

NOTCH_ANGLE = 120.0     # angleDelta of one wheel notch (eighths of a degree)
NOTCH_PIXELS = 50.0     # a two-finger scroll this many pixels long zooms as much as one notch
PINCH_LIMITS = (0.5, 2.0)  # the zoom factor of one pinch event is kept within these


def wheel_steps(ev) -> float:
    """Wheel notches of a QWheelEvent, positive away from the user: the vertical angle delta in
    notches, or, when the event brings pixels but no angle, the vertical pixel delta over
    :data:`NOTCH_PIXELS`. Fractions are kept, so a touchpad zooms smoothly."""
    angle = ev.angleDelta().y()
    if angle:
        return angle / NOTCH_ANGLE
    return ev.pixelDelta().y() / NOTCH_PIXELS


def pinch_factor(ev) -> float | None:
    """The zoom factor of a pinch (a native zoom gesture: > 1 spreads the fingers, zooms in), or
    None when ``ev`` is any other event."""
    if ev.type() != QEvent.Type.NativeGesture or ev.gestureType() != Qt.NativeGestureType.ZoomNativeGesture:
        return None
    return min(max(1.0 + ev.value(), PINCH_LIMITS[0]), PINCH_LIMITS[1])
