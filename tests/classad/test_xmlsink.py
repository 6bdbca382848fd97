"""ClassAds as XML (pyhtc.classad.xmlsink), against the rules of HTCondor's
src/classad/xmlSink.cpp and sink.cpp (setXMLUnparse): every value form, nesting and
indentation, entities, and a well-formed document that Python's XML parser reads back."""
import xml.etree.ElementTree as ET

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
