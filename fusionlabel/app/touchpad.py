"""Zoom and sideways pan from a touchpad as from a mouse wheel: every view reads its wheel and pinch
events here. A scroll mostly up/down zooms; a scroll mostly sideways (two fingers, a tilting
wheel) pans where a view can pan, and never zooms.

A touchpad's two-finger scroll may come as pixels only (no angle: Wayland, macOS, some X11
drivers for slow movements); a pinch comes as a native zoom gesture (X11 with XInput 2.4, Wayland,
macOS), not as a wheel event at all.
"""

from __future__ import annotations

from PyQt6.QtCore import QEvent, Qt

NOTCH_ANGLE = 120.0     # angleDelta of one wheel notch (eighths of a degree)
NOTCH_PIXELS = 50.0     # a two-finger scroll this many pixels long zooms as much as one notch
PAN_NOTCH_PIXELS = 40.0  # a sideways wheel notch (no pixel delta) pans this many pixels
PINCH_LIMITS = (0.5, 2.0)  # the zoom factor of one pinch event is kept within these


def wheel_steps(ev) -> float:
    """Wheel notches of a QWheelEvent, positive away from the user: the vertical angle delta in
    notches, or, when the event brings pixels but no angle, the vertical pixel delta over
    :data:`NOTCH_PIXELS`; 0 for a scroll more sideways than up/down. Fractions are kept, so a
    touchpad zooms smoothly."""
    angle = ev.angleDelta()
    if angle.x() or angle.y():
        return angle.y() / NOTCH_ANGLE if abs(angle.y()) >= abs(angle.x()) else 0.0
    pixels = ev.pixelDelta()
    return pixels.y() / NOTCH_PIXELS if abs(pixels.y()) >= abs(pixels.x()) else 0.0


def sideways_pixels(ev) -> float:
    """How far a QWheelEvent scrolled sideways, in widget pixels, positive when the content should
    move right (a scroll to the left, as in Qt's scroll areas): the horizontal pixel delta, else
    the horizontal angle delta at :data:`PAN_NOTCH_PIXELS` a notch; 0 for a scroll more up/down
    than sideways."""
    angle, pixels = ev.angleDelta(), ev.pixelDelta()
    delta = pixels if pixels.x() or pixels.y() else angle
    if abs(delta.x()) <= abs(delta.y()):
        return 0.0
    return float(pixels.x()) if pixels.x() else angle.x() / NOTCH_ANGLE * PAN_NOTCH_PIXELS


def pinch_factor(ev) -> float | None:
    """The zoom factor of a pinch (a native zoom gesture: > 1 spreads the fingers, zooms in), or
    None when ``ev`` is any other event."""
    if ev.type() != QEvent.Type.NativeGesture or ev.gestureType() != Qt.NativeGestureType.ZoomNativeGesture:
        return None
    return min(max(1.0 + ev.value(), PINCH_LIMITS[0]), PINCH_LIMITS[1])
