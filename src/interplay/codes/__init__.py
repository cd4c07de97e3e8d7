"""Codes: BCH codes for SPEX's delays, and collision-free feedback scheduling codes."""

from interplay.codes.bch import BCHCode
from interplay.codes.feedback import FeedbackCode, decode, decode_many, encode, simulate

__all__ = ["BCHCode", "FeedbackCode", "decode", "decode_many", "encode", "simulate"]
