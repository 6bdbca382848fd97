"""ClassAds as XML, the form ``condor_q -xml`` and ``condor_status -xml`` print.

HTCondor 25's src/classad/xmlSink.cpp (ClassAdXMLUnParser with compact spacing off, as
sPrintAdAsXML and CondorClassAdListWriter use it), the tag names of src/classad/xmlLexer.cpp
and the file header/footer of src/condor_utils/compat_classad_util.cpp
(AddClassAdXMLFileHeader/Footer).  An ad is ``<c>`` with one ``<a n="Name">`` per attribute
on its own line, indented by four spaces per nesting level; values are ``<i>``, ``<r>``
(``%1.15E``), ``<s>`` (the string's C escapes, a double quote left as is), ``<b v="t"/>``,
``<un/>``, ``<er/>``, ``<at>``, ``<rt>``, ``<l>`` (elements inline), a nested ``<c>``; any
other expression is ``<e>`` with its new-syntax text.  ``&``, ``<`` and ``>`` in strings and
operators are written as entities (sink.cpp with setXMLUnparse).

Known difference: an attribute reference whose name must be quoted and contains ``&``,
``<`` or ``>`` (``'a<b'``) is escaped here; HTCondor leaves such a name raw, which is not
well-formed XML.
"""
from __future__ import annotations

from .nodes import ListExpr, Literal, RecordExpr, RelTimeLiteral
from .timefmt import abstime_to_string, reltime_to_string
from .unparse import _ESC, _int32_secs, format_real, unparse_node
from .values import ERROR, UNDEFINED, AbsTime, ListValue, RelTime, to_bytes

__all__ = ["XML_HEADER", "XML_FOOTER", "format_xml_ad", "format_xml_ads"]

#: AddClassAdXMLFileHeader
XML_HEADER = '<?xml version="1.0"?>\n<!DOCTYPE classads SYSTEM "classads.dtd">\n<classads>\n'
#: AddClassAdXMLFileFooter
XML_FOOTER = "</classads>\n"


def _entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _string_body(s: str) -> str:
    """A string's XML text: UnparseString with no delimiter (a ``"`` stays as it is), then
    ``&``, ``<``, ``>`` as entities."""
    out = []
    for c in to_bytes(s):
        if c in _ESC:
            out.append(_ESC[c])
        elif 0x20 <= c <= 0x7E:
            out.append(chr(c))
        else:
            out.append("\\%03o" % c)
    return _entities("".join(out))


def _value(out: list, v, indent: int) -> None:
    """ClassAdXMLUnParser::Unparse(Value)."""
    t = type(v)
    if t is bool:
        out.append('<b v="t"/>' if v else '<b v="f"/>')
    elif t is int:
        out.append(f"<i>{v}</i>")
    elif t is float:
        if v == 0.0:
            text = "0.0"  # xmlSink.cpp tests == 0.0 first, so a negative zero prints 0.0 too
        elif v != v:
            text = "NaN"
        elif v in (float("inf"), float("-inf")):
            text = "INF" if v > 0 else "-INF"
        else:
            text = format_real(v)
        out.append(f"<r>{text}</r>")
    elif t is str:
        out.append(f"<s>{_string_body(v)}</s>")
    elif v is UNDEFINED:
        out.append("<un/>")
    elif v is ERROR:
        out.append("<er/>")
    elif t is AbsTime:
        out.append(f"<at>{abstime_to_string(v)}</at>")
    elif t is RelTime:
        out.append(f"<rt>{reltime_to_string(_int32_secs(v.secs))}</rt>")
    elif t is ListValue:
        out.append("<l>")
        if v.exprs is not None:
            for e in v.exprs:
                _node(out, e, indent)
        else:
            for e in v.values():
                _value(out, e, indent)
        out.append("</l>")
    else:  # a ClassAd value
        _record(out, v._items(), indent)


def _node(out: list, node, indent: int) -> None:
    """ClassAdXMLUnParser::Unparse(ExprTree)."""
    t = type(node)
    if t is Literal:
        _value(out, node.value, indent)
    elif t is RelTimeLiteral:
        out.append(f"<rt>{reltime_to_string(node.secs)}</rt>")
    elif t is ListExpr:
        out.append("<l>")
        for e in node.items:
            _node(out, e, indent)
        out.append("</l>")
    elif t is RecordExpr:
        _record(out, list(node.attrs.values()), indent)
    else:  # attribute references, operators, function calls
        out.append("<e>" + _entities(unparse_node(node)) + "</e>")


def _record(out: list, items, indent: int) -> None:
    """UnparseAux of an ad's ``(name, node)`` pairs, compact spacing off."""
    out.append("<c>\n")
    pad = " " * (indent + 4)
    for name, node in items:
        out.append(f'{pad}<a n="{_string_body(name)}">')
        _node(out, node, indent + 4)
        out.append("</a>\n")
    out.append(" " * indent + "</c>")
    if indent == 0:
        out.append("\n")


def format_xml_ad(items) -> str:
    """One ad's XML (sPrintAdAsXML): ``items`` are its ``(name, node)`` pairs in the order
    to print (e.g. ``ad._items()`` or a sorted selection)."""
    out: list = []
    _record(out, items, 0)
    return "".join(out)


def format_xml_ads(ads_items) -> str:
    """A whole ``-xml`` listing (CondorClassAdListWriter with XML always framed, as condor_q
    and condor_status write it): the header, each non-empty ad, the footer; header and
    footer alone when there are no ads."""
    return XML_HEADER + "".join(format_xml_ad(items) for items in ads_items if items) + XML_FOOTER
