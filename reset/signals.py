"""What the face check tells listeners, without knowing them (style.md, thin consumers).

`face_check_event` is sent by the face consumer (reset/face_consumer.py) when an attempt starts
(`result="started"`) and when it ends (`result="passed"` or a failure code), with the socket's
scope and the tries left. It carries no photo, frame, embedding or score. The assisted booking
(reset/assisted_terminal.py) relays it to the clerk's console; receivers are called with
`asend_robust`, after the page got its message, so a listener that fails or is slow never changes
the face check.
"""

from __future__ import annotations

from django.dispatch import Signal

face_check_event = Signal()
