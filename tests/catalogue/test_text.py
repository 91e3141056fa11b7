"""Plain text from DLDB HTML: rendering, headings, links. Snippets are modelled on Munich's."""

from __future__ import annotations

from bot.catalogue.text import Link, Section, html_links, html_sections, html_to_text


def test_paragraphs_are_separated_by_blank_lines() -> None:
    assert html_to_text("<p>Erster Absatz.</p>\n<p>Zweiter Absatz.</p>") == (
        "Erster Absatz.\n\nZweiter Absatz.")


def test_br_becomes_a_line_break_and_whitespace_collapses() -> None:
    html = "<p>Die Abmeldung   ist\n kostenlos.<br>Sie  geht auch online.</p>"
    assert html_to_text(html) == "Die Abmeldung ist kostenlos.\nSie geht auch online."


def test_list_items_become_dash_lines() -> None:
    html = ("<p>Gebühren:</p><ul>\n <li>Unter 24 Jahren: 37,50 Euro</li>\n"
            " <li>Über 24 Jahren: 70 Euro</li>\n</ul>")
    assert html_to_text(html) == (
        "Gebühren:\n\n- Unter 24 Jahren: 37,50 Euro\n- Über 24 Jahren: 70 Euro")


def test_ordered_and_nested_lists() -> None:
    html = "<ol><li>Antrag<ul><li>online</li><li>per Post</li></ul></li><li>Termin</li></ol>"
    assert html_to_text(html) == "- Antrag\n  - online\n  - per Post\n- Termin"


def test_bold_label_line_in_item_is_joined_with_a_colon() -> None:
    html = "<ol><li><strong>Mit BayernID anmelden</strong>\n<br>\nWenn Sie ...</li></ol>"
    assert html_to_text(html) == "- Mit BayernID anmelden: Wenn Sie ..."


def test_paragraph_inside_list_item_stays_in_the_item() -> None:
    html = "<ul><li><p>Bitte bringen Sie ein Passfoto mit.</p></li></ul>"
    assert html_to_text(html) == "- Bitte bringen Sie ein Passfoto mit."


def test_entities_nbsp_and_zero_width_spaces_are_normalised() -> None:
    html = "<p>\u200bFormulare &amp; Links&nbsp;&nbsp;hier\u00a0und\u200b dort &#8211; &quot;x"
    text = html_to_text(html)
    assert text == 'Formulare & Links hier und dort – "x'
    assert "\u200b" not in text and "\u00a0" not in text


def test_links_keep_their_text_only() -> None:
    html = '<p>Mehr beim <a href="https://stadt.muenchen.de/x">Gründungsbüro</a>.</p>'
    assert html_to_text(html) == "Mehr beim Gründungsbüro."


def test_html_links_returns_text_and_url_in_order() -> None:
    html = ('<p><a href="https://a.example/antrag.pdf">Antragsformular</a> und '
            '<a href=" https://b.example/form ">online</a> <a>ohne Ziel</a></p>')
    assert html_links(html) == [Link("Antragsformular", "https://a.example/antrag.pdf"),
                                Link("online", "https://b.example/form")]


def test_no_markup_survives_and_scripts_are_dropped() -> None:
    html = "<div><span style='x'>Text</span><script>alert(1)</script><style>p{}</style><u>!</u>"
    assert html_to_text(html) == "Text!"


def test_broken_html_still_gives_text() -> None:
    assert html_to_text("<p>offen <b>fett <ul><li>Punkt</p></div></span>&unbekannt; <") == (
        "offen fett\n\n- Punkt&unbekannt; <")


def test_empty_inputs() -> None:
    assert html_to_text(None) == ""
    assert html_to_text("") == ""
    assert html_to_text("<p>\u200b</p><p> <br> </p>") == ""
    assert html_sections(None) == []
    assert html_sections("<p>&nbsp;</p>") == []


def test_plain_text_keeps_its_lines_and_paragraphs() -> None:
    text = "Erste Zeile\r\nzweite Zeile\r\n\r\nNeuer Absatz mit a < b & c"
    assert html_to_text(text) == "Erste Zeile\nzweite Zeile\n\nNeuer Absatz mit a < b & c"


def test_table_cells_become_blocks() -> None:
    assert html_to_text("<table><tbody><tr><td>A</td><td>B</td></tr></tbody></table>") == "A\n\nB"


# --- sections ------------------------------------------------------------------------------


def test_bold_only_paragraph_is_a_heading() -> None:
    html = ("<p>Allgemeines.</p><p><strong>Gültigkeitsdauer</strong></p>"
            "<p>Die Aufenthaltserlaubnis wird für drei Jahre erteilt.</p>")
    assert html_sections(html) == [
        Section(None, "Allgemeines."),
        Section("Gültigkeitsdauer", "Die Aufenthaltserlaubnis wird für drei Jahre erteilt."),
    ]


def test_h2_and_h3_are_headings_and_items_are_collected() -> None:
    html = ("<h2>Erforderliche Unterlagen</h2><p>Bitte mitbringen:</p>"
            "<ul><li>Personalausweis</li><li>Foto</li></ul><h3>Gebühren</h3><p>10 Euro</p>")
    assert html_sections(html) == [
        Section("Erforderliche Unterlagen", "Bitte mitbringen:\n\n- Personalausweis\n- Foto",
                ("Personalausweis", "Foto")),
        Section("Gebühren", "10 Euro"),
    ]


def test_bold_first_line_before_br_is_a_heading_without_its_colon() -> None:
    html = ("<p><strong>Aufgabe einer Nebenwohnung:<br></strong>Die Abmeldung ist möglich.</p>"
            "<p><strong>Hinweis für Vielreisende</strong> <br>\n Pässe mit 48 Seiten.</p>")
    sections = html_sections(html)
    assert [(s.heading, s.text) for s in sections] == [
        ("Aufgabe einer Nebenwohnung", "Die Abmeldung ist möglich."),
        ("Hinweis für Vielreisende", "Pässe mit 48 Seiten."),
    ]


def test_several_bold_labels_in_one_paragraph() -> None:
    html = ("<p>Intro.<br /><br /><strong>Verlängerung:</strong><br /> Gleiche Unterlagen."
            "<br /><br /><strong>Verlust:</strong><br />Bitte melden.</p>")
    assert [(s.heading, s.text) for s in html_sections(html)] == [
        (None, "Intro."), ("Verlängerung", "Gleiche Unterlagen."), ("Verlust", "Bitte melden.")]


def test_question_in_bold_is_a_heading() -> None:
    html = "<p><strong>Wer kann die Erlaubnis beantragen?</strong></p><p>Alle.</p>"
    assert html_sections(html)[0].heading == "Wer kann die Erlaubnis beantragen?"


def test_emphasised_sentence_is_not_a_heading() -> None:
    html = ("<p><strong>Bei einem Umzug innerhalb Deutschlands müssen Sie sich nicht abmelden."
            "</strong></p><p>Mehr Text.</p>")
    assert html_sections(html) == [Section(
        None,
        "Bei einem Umzug innerhalb Deutschlands müssen Sie sich nicht abmelden.\n\nMehr Text.")]


def test_long_bold_line_is_not_a_heading() -> None:
    long_line = "Wichtig " * 20
    assert html_sections(f"<p><strong>{long_line}</strong></p>")[0].heading is None


def test_bold_inside_running_text_is_not_a_heading() -> None:
    html = "<p>Reichen Sie die Anmeldung <strong>vor Aufnahme der Tätigkeit</strong> ein.</p>"
    assert html_sections(html)[0].heading is None


def test_bold_list_items_are_items_not_headings() -> None:
    html = "<p><strong>So geht es:</strong></p><ol><li><strong>Los</strong></li></ol>"
    assert html_sections(html) == [Section("So geht es", "- Los", ("Los",))]


def test_heading_without_body_and_zero_width_prefix() -> None:
    html = "<p>\u200b <strong>Arbeit</strong></p><p><strong>Visum</strong></p><p>Nötig.</p>"
    assert html_sections(html) == [Section("Arbeit", ""), Section("Visum", "Nötig.")]
