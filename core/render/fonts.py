"""Whether fontconfig, which WeasyPrint draws its fonts from, has a font for Chinese.

Without one, Pango draws every Chinese character as an empty box and nothing fails, so a
PDF with Chinese text asks this first and stops with the install command instead.  The
question goes to the fontconfig library itself (the one Pango uses, honouring
``FONTCONFIG_FILE``), not to the ``fc-list`` program, which may not be installed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import re

from tierkit.errors import TierkitError

CJK_FONT_HINT = "install one: apt-get install fonts-noto-cjk (or fonts-wqy-microhei); then `tierkit doctor`"
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class _FontSet(ctypes.Structure):
    _fields_ = [("nfont", ctypes.c_int), ("sfont", ctypes.c_int), ("fonts", ctypes.c_void_p)]


@functools.cache
def chinese_font_families() -> tuple[str, ...] | None:
    """The families fontconfig offers for ``:lang=zh``; None when fontconfig is absent."""
    name = ctypes.util.find_library("fontconfig")
    if name is None:
        return None
    fc = ctypes.CDLL(name)
    fc.FcNameParse.restype = ctypes.c_void_p
    fc.FcObjectSetBuild.restype = ctypes.c_void_p
    fc.FcFontList.restype = ctypes.POINTER(_FontSet)
    fc.FcFontList.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    fc.FcPatternGetString.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
    fc.FcFontSetDestroy.argtypes = [ctypes.POINTER(_FontSet)]
    pattern = fc.FcNameParse(b":lang=zh")
    wanted = fc.FcObjectSetBuild(b"family", None)
    found = fc.FcFontList(None, pattern, wanted)
    families = set()
    if found:
        fonts = ctypes.cast(found.contents.fonts, ctypes.POINTER(ctypes.c_void_p))
        for index in range(found.contents.nfont):
            family = ctypes.c_char_p()
            if fc.FcPatternGetString(fonts[index], b"family", 0, ctypes.byref(family)) == 0 and family.value:
                families.add(family.value.decode("utf-8", "replace"))
        fc.FcFontSetDestroy(found)
    return tuple(sorted(families))


def require_chinese_font(text: str) -> None:
    """Stop before printing Chinese text that no installed font can draw."""
    if _HAN.search(text) and chinese_font_families() == ():
        raise TierkitError("this PDF has Chinese text and fontconfig finds no Chinese (CJK) font", hint=CJK_FONT_HINT)
