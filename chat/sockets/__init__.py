"""The socket machinery shared by every socket kind: see docs/sockets.md."""

from chat.sockets.consumer import GroupSocket, LoopConsumer, Socket
from chat.sockets.frames import FrameKind, Vocabulary, error_frame, frame
from chat.sockets.limits import CONTROL, MESSAGE, SIGNAL, TYPING, VOICE

__all__ = [
    "CONTROL",
    "MESSAGE",
    "SIGNAL",
    "TYPING",
    "VOICE",
    "FrameKind",
    "GroupSocket",
    "LoopConsumer",
    "Socket",
    "Vocabulary",
    "error_frame",
    "frame",
]
