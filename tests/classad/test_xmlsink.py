"""ClassAds as XML (pyhtc.classad.xmlsink), against the rules of HTCondor's
src/classad/xmlSink.cpp and sink.cpp (setXMLUnparse): every value form, nesting and
indentation, entities, and a well-formed document that Python's XML parser reads back."""
import io
import xml.etree.ElementTree as ET

import pytest

import pyhtc.classad as C
from pyhtc.classad.xmlsink import XML_FOOTER, XML_HEADER, format_xml_ad, format_xml_ads

AD = C.ClassAd(r'''[ A = 1; B = -0.0; C = 2.5; D = "x<y & \"q\" \\ \n"; E = true; F = undefined;
    G = error; H = {1, "a", x + 1, [q = 1]}; I = [ r = 2; s = [t = 3] ]; J = x >= 2 && y < 3;
    K = absTime("2024-01-02T03:04:05Z"); L = relTime("1d"); M = strcat("<"); N = -1;
    O = real("NaN"); P = -real("INF") ]''')
AD["Q"] = "\u00e9"


def test_every_value_form():
    assert format_xml_ad(AD._items()) == (
        '<c>\n'
        '    <a n="A"><i>1</i></a>\n'
        '    <a n="B"><r>0.0</r></a>\n'                       # -0.0 == 0.0: printed 0.0
        '    <a n="C"><r>2.500000000000000E+00</r></a>\n'
        '    <a n="D"><s>x&lt;y &amp; "q" \\\\ \\n</s></a>\n'  # C escapes, quote left alone
        '    <a n="E"><b v="t"/></a>\n'
        '    <a n="F"><un/></a>\n'
        '    <a n="G"><er/></a>\n'
        '    <a n="H"><l><i>1</i><s>a</s><e>x + 1</e><c>\n'
        '        <a n="q"><i>1</i></a>\n'
        '    </c></l></a>\n'
        '    <a n="I"><c>\n'
        '        <a n="r"><i>2</i></a>\n'
        '        <a n="s"><c>\n'
        '            <a n="t"><i>3</i></a>\n'
        '        </c></a>\n'
        '    </c></a>\n'
        '    <a n="J"><e>x &gt;= 2 &amp;&amp; y &lt; 3</e></a>\n'
        '    <a n="K"><at>2024-01-02T03:04:05-00:00</at></a>\n'
        '    <a n="L"><rt>1+00:00:00</rt></a>\n'
        '    <a n="M"><e>strcat("&lt;")</e></a>\n'
        '    <a n="N"><i>-1</i></a>\n'
        '    <a n="O"><e>real("NaN")</e></a>\n'
        '    <a n="P"><e> -real("INF")</e></a>\n'             # unary minus as sink.cpp prints it
        '    <a n="Q"><s>\\303\\251</s></a>\n'                # bytes outside ASCII in octal
        '</c>\n')


def test_document_is_well_formed_and_framed():
    doc = format_xml_ads([AD._items(), [], C.ClassAd({"Z": 'a"b'})._items()])
    assert doc.startswith(XML_HEADER) and doc.endswith(XML_FOOTER)
    root = ET.fromstring(doc.split("\n", 2)[2])             # past the XML and DOCTYPE lines
    assert [len(c) for c in root] == [len(AD), 1]           # the empty ad is left out
    assert root[0].find("a[@n='D']/s").text == 'x<y & "q" \\\\ \\n'
    assert root[1].find("a[@n='Z']/s").text == 'a"b'
    assert format_xml_ads([]) == XML_HEADER + XML_FOOTER


# -- reading XML (pyhtc.classad.xmlsource) against the real classad2 XML parser --------------
import classad2  # noqa: E402

XML_CASES = [
    '<c>\n    <a n="B"><s>  sp "x" \\n  </s></a>\n    <a n="C"><i>12abc</i></a>\n    <a n="D"><r>1.5e3xyz</r></a></c>',
    '<c><a n="E"><e>1 + &lt;</e></a></c><c><a n="F"><i>1</i></a></c>',
    '<c><a n="A"><s>a\\0b</s></a></c><c><a n="B"><i>2</i></a></c>',
    '<c><a n="A"><b v="T"/></a><a n="Q"><b v="x"></b></a><a n="L"><l><i>1</i> <un/> <er/></l></a>'
    '<a n="S"><s></s></a><a n="T"><at>2020-01-01T00:00:00Z</at></a><a n="R"><rt>90</rt></a></c>',
    '<c><a n=""><i>3</i></a></c>',
    '<c><a n="X"><e>a ++ b</e></a><a n="Y"><i>1</i></a></c><c><a n="Z"><i>2</i></a></c>',
    '<c><a n="A"><s>&amp;x &quot; &lt;&gt; &bogus; & y &amp;</s></a></c>',
    'junk <c><a n="A"><i>1</i></a></c> more junk <c><a n="B"><i>2</i></a></c>',
    '<c><a n="A"><i>1</i></a><zz/><a n="B"><i>2</i></a></c>',
    '<c><a n="A"><i>x</i></a><a n="B"><at>not a time</at></a></c>',
    '<c><a n="A"></a></c>',
    '<c><a n="R"><rt>soon</rt></a></c>', '<c><a n="R"><rt>1d 2h</rt></a><a n="T"><at>2020-01-01</at></a></c>',
    '<c><a n="A"><i> 7 </i></a><a n="B"><r>NaN</r></a><a n="C"><r>-INF</r></a><a n="D"><r> 2</r></a></c>',
    '', '<classads></classads>', '<c></c><c><a n="A"><i>1</i></a></c>',
    '<c><a n="N"><c><a n="x"><i>1</i></a></c></a><a n="M"><l><c><a n="y"><s>q</s></a></c></l></a></c>',
    '<c><a n="A&amp;B"><i>1</i></a><a n="e\\x"><i>2</i></a><a n="U"><i>99999999999999999999</i></a></c>',
]


def _both(text):
    def run(parse, xml):
        try:
            return [str(repr(a)) for a in parse(text, xml)], None
        except Exception as e:  # noqa: BLE001 - the exception type is what is compared
            return None, type(e)
    return run(classad2.parseAds, classad2.ParserType.XML), run(C.parseAds, C.ParserType.XML)


@pytest.mark.parametrize("text", XML_CASES)
def test_xml_reading_matches_classad2(text):
    (theirs, their_exc), (ours, our_exc) = _both(text)
    if their_exc is not None:
        assert our_exc is not None and issubclass(our_exc, their_exc), (their_exc, our_exc)
    else:
        assert our_exc is None and ours == theirs


def test_xml_round_trip_through_both_libraries():
    doc = format_xml_ads([AD._items(), C.ClassAd({"Z": 'a"b', "W": [1, 2.5, "x"]})._items()])
    theirs = list(classad2.parseAds(doc, classad2.ParserType.XML))
    ours = list(C.parseAds(doc, C.ParserType.XML))
    assert [repr(a) for a in ours] == [repr(a) for a in theirs]
    assert ours[0]["D"] == AD["D"] and ours[0]["Q"] == "\u00e9"
    # what classad2 writes as its own repr parses the same way in both, too
    assert [repr(a) for a in C.parseAds(io.StringIO(doc), C.ParserType.XML)] == [repr(a) for a in theirs]
    assert list(C.parseAds(doc)) == []          # Auto never reads XML (as classad2)
