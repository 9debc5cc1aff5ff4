"""The texts of the demo attachments, written for this demo (German, fictitious details).

``manage.py build_demo_attachments`` turns them into real files (PDF, DOCX, ODT, PPTX,
Markdown) in ``knowledge/demo_content/attachments/``; the files are committed, so loading the
demo needs none of the writing libraries. Each text holds facts that the page it is attached
to does not mention: the judged set ``search/judgements/attachment_queries.jsonl`` asks for
them, so only the attachment's passages can answer.
"""

# --- PDF: final report of the Oerlinghausen strategy project (one list item per PDF page) ----

REPORT_TITLE = "Abschlussbericht Digitalisierungsstrategie Oerlinghausen 2021–2028"

REPORT_PAGES = [
    [
        ("title", REPORT_TITLE),
        ("p", "Stadt Oerlinghausen · Projektgruppe Digitalisierung · Juli 2021"),
        ("h1", "1 Auftrag und Zusammenfassung"),
        ("p", "Der Rat hat die Verwaltung im Dezember 2020 beauftragt, bis zum Sommer 2021 "
              "eine Digitalisierungsstrategie mit einem verbindlichen Umsetzungsplan vorzulegen. "
              "Dieser Bericht fasst die Ergebnisse der fünf Projektgruppensitzungen zusammen "
              "und beschreibt den Digitalisierungszeitstrahl bis Ende 2028."),
        ("p", "Im Mittelpunkt stehen drei Ziele: Kein Vorgang soll mehr an einem bestimmten "
              "Schreibtisch hängen, Bürgerinnen und Bürger sollen die häufigsten Anliegen "
              "ohne Behördengang erledigen können, und das Wissen erfahrener Kolleginnen "
              "und Kollegen soll vor ihrem Ruhestand gesichert werden."),
        ("p", "Die Umsetzung wird durch eine Lenkungsgruppe unter Vorsitz des Bürgermeisters "
              "gesteuert, die zweimal im Jahr tagt und dem Haupt- und Finanzausschuss "
              "berichtet."),
    ],
    [
        ("h1", "2 Mengengerüst des Posteingangs"),
        ("p", "In der Zählwoche im Februar 2021 gingen im Rathaus 1.870 Schriftstücke ein. "
              "Davon kamen 46 Prozent als Brief, 38 Prozent als E-Mail, 11 Prozent über das "
              "Faxgerät und 5 Prozent persönlich an der Pforte. Gut ein Viertel aller "
              "Eingänge betraf das Bauamt."),
        ("p", "Für das zentrale Scannen rechnet die Projektgruppe mit einer halben Stelle in "
              "der Poststelle. Ein Dokumentenscanner mit Stapeleinzug und Barcodetrennung "
              "reicht für die Menge aus; Bauzeichnungen im Großformat scannt weiterhin ein "
              "Dienstleister."),
        ("h1", "3 Kosten und Finanzierung"),
        ("p", "Die einmaligen Kosten bis 2024 werden auf 310.000 Euro geschätzt, davon "
              "entfallen 140.000 Euro auf die Einführung des Dokumentenmanagements, 95.000 "
              "Euro auf Schulungen und Organisationsberatung und 75.000 Euro auf Hardware. "
              "Die laufenden Lizenz- und Betriebskosten steigen um etwa 42.000 Euro im Jahr."),
        ("p", "Die Stadt beantragt Mittel aus dem Landesprogramm zur Förderung der "
              "Verwaltungsdigitalisierung; der Eigenanteil von mindestens 30 Prozent ist im "
              "Haushaltsentwurf 2022 eingeplant. Einsparungen werden vor allem beim Porto, "
              "beim Archivraum im Keller und bei Suchzeiten erwartet."),
    ],
    [
        ("h1", "4 Digitalisierungszeitstrahl"),
        ("p", "Der Zeitstrahl ordnet die Digitalbündel Halbjahren zu. Jedem Bündel geht ein "
              "Change-Modul voraus, das die Beschäftigten auf die Veränderung vorbereitet."),
        ("table", [
            ["Halbjahr", "Change-Modul", "Digitalbündel", "Maßnahmen"],
            ["2. Hj. 2021", "Auftaktveranstaltung für alle Beschäftigten",
             "Digitaler Posteingang", "Zentrales Scannen, elektronische Verteilung"],
            ["1. Hj. 2022", "Schulung Ablagestruktur",
             "E-Akte Pilot Bauamt", "Aktenplan, Pilotbetrieb mit zwei Sachgebieten"],
            ["2. Hj. 2022", "Führungskräfte-Werkstatt",
             "E-Akte Rollout Kernverwaltung", "Einführung in allen Fachbereichen"],
            ["1. Hj. 2023", "Lernpatenschaften",
             "Wissenssicherung", "Wissensinterviews mit Beschäftigten vor dem Ruhestand"],
            ["2. Hj. 2024", "Bürgerinformation",
             "Online-Dienste", "Antragsstrecken für die zehn häufigsten Anliegen"],
            ["1. Hj. 2026", "Prozesswerkstatt",
             "Medienbruchfreie Prozesse", "Anbindung der Fachverfahren an die E-Akte"],
            ["2. Hj. 2028", "Rückblick und Ausblick",
             "Evaluation", "Bilanz und Fortschreibung der Strategie"],
        ]),
    ],
    [
        ("h1", "5 Kennzahlen für das Controlling"),
        ("p", "Die Lenkungsgruppe verfolgt den Fortschritt an wenigen, leicht erhebbaren "
              "Kennzahlen: den Anteil der digital eingehenden Schriftstücke, die Zahl der "
              "Fachbereiche mit E-Akte, die durchschnittliche Bearbeitungsdauer einer "
              "Baugenehmigung und die Zahl der online gestellten Anträge je Quartal."),
        ("p", "Als Zielwert für Ende 2024 gilt, dass mindestens 80 Prozent der Eingänge "
              "elektronisch verteilt werden und die Bearbeitungsdauer einer "
              "Baugenehmigung von durchschnittlich elf auf acht Wochen sinkt."),
        ("h1", "6 Risiken und Gegenmaßnahmen"),
        ("p", "Als größtes Risiko sieht die Projektgruppe einen Ausfall des Rechenzentrums, "
              "wenn nur noch elektronisch gearbeitet wird. Deshalb wird mit dem krz ein "
              "Notfallkonzept mit Wiederanlaufzeiten vereinbart. Ein zweites Risiko ist die "
              "Überlastung der kleinen IT-Abteilung; sie wird durch eine zusätzliche Stelle "
              "für Anwendungsbetreuung ab 2022 entlastet."),
        ("p", "Der Personalrat begleitet die Umsetzung; eine Dienstvereinbarung schließt die "
              "Auswertung von Protokolldaten zur Leistungskontrolle ausdrücklich aus."),
    ],
]

# --- DOCX: the original minutes of a Spenge session (also the "Protokoll aus Datei" sample) --

PROTOCOL_TITLE = "Protokoll der 3. Projektgruppensitzung Digitalisierung Spenge"
PROTOCOL_DATE = "14.04.2021"
PROTOCOL_PARTICIPANTS = [
    "Bürgermeister (Stadt Spenge)",
    "Leitung Bürgerbüro (Stadt Spenge)",
    "IT-Koordination (Stadt Spenge)",
    "Projektleitung krz (krz Lemgo)",
]
PROTOCOL_AGENDA = [
    ("Auswertung der Telefonstatistik",
     "Die Telefonanlage hat im März 4.300 Anrufe im Bürgerbüro gezählt. Fast jeder dritte "
     "Anruf galt der Frage, ob ein Personalausweis schon abgeholt werden kann. Eine "
     "Statusabfrage im Internet würde die Telefonleitungen spürbar entlasten."),
    ("Hundesteuer und Sperrmüll online",
     "Die Anmeldung eines Hundes zur Hundesteuer und die Bestellung der Sperrmüllabholung "
     "sollen als erste Formulare ohne Unterschrift digital angeboten werden. Beide Verfahren "
     "sind einfach, häufig und ohne Gebührenbescheid vor Ort möglich."),
    ("Zahlungsverkehr im Bürgerbüro",
     "Bisher kann im Bürgerbüro nur bar oder mit Girocard gezahlt werden. Die Kämmerei prüft "
     "die Anbindung eines Bezahldienstes, damit Gebühren auch bei Online-Anträgen direkt "
     "beglichen werden können."),
]
PROTOCOL_DECISIONS = [
    "Die Statusabfrage für Ausweisdokumente wird als erstes Digitalbündel umgesetzt.",
    "Hundesteueranmeldung und Sperrmüllbestellung gehen bis zum Herbst online.",
]
PROTOCOL_ACTIONS = [
    ["Aufgabe", "Verantwortlich", "Fällig", "Status"],
    ["Anbieter für die Statusabfrage anfragen", "IT-Koordination", "31.05.2021", "offen"],
    ["Formulartexte Hundesteuer abstimmen", "Leitung Bürgerbüro", "15.06.2021", "in Arbeit"],
]

# --- ODT: a guide for the Blomberg digital pilots -----------------------------------------------

GUIDE_TITLE = "Leitfaden für Digitalisierungslotsinnen und -lotsen in Blomberg"
GUIDE_SECTIONS = [
    ("Wozu es Lotsinnen und Lotsen gibt",
     ["Lotsinnen und Lotsen sind Ansprechpersonen in ihrem Fachbereich, wenn Abläufe "
      "vereinfacht oder digitale Werkzeuge eingeführt werden. Sie sind keine Hotline für "
      "Störungen: Druckerprobleme und gesperrte Konten gehen weiterhin an den IT-Service."]),
    ("Sprechstunde und Erreichbarkeit",
     ["Jeden Donnerstag von 13 bis 14 Uhr bieten die Lotsinnen und Lotsen eine offene "
      "Sprechstunde im Besprechungsraum des Rathauses an. Wer nicht kommen kann, schreibt in "
      "den gemeinsamen Kanal im Chat; Antworten gibt es innerhalb von zwei Arbeitstagen."]),
    ("Ideen sammeln und bewerten",
     ["Verbesserungsvorschläge werden in einer einfachen Ideenliste festgehalten. Einmal im "
      "Quartal bewerten die Lotsinnen und Lotsen die Vorschläge gemeinsam nach Aufwand und "
      "Nutzen und schlagen dem Verwaltungsvorstand die drei besten zur Umsetzung vor."]),
    ("Werkzeugkasten",
     ["Für die Aufnahme von Abläufen stehen ein Moderationskoffer, eine Vorlage für "
      "Prozesssteckbriefe und ein Zugang zur Lernplattform des Kommunalen Rechenzentrums "
      "bereit. Neue Lotsinnen und Lotsen erhalten eine Patin oder einen Paten aus der "
      "ersten Gruppe."]),
]

# --- PPTX: results of the Spenge citizen survey, one list item per slide ---------------------

SURVEY_TITLE = "Bürgerbefragung Spenge 2021: Ergebnisse"
SURVEY_SLIDES = [
    ("Bürgerbefragung Spenge 2021", ["Ergebnisse für die Projektgruppe Digitalisierung",
                                     "Mai 2021"]),
    ("Wer hat geantwortet?", [
        "Die Hälfte der Antworten kam von Menschen zwischen 30 und 59 Jahren",
        "Der Fragebogen lag auch in der Stadtbücherei und im Seniorentreff aus",
        "Teilnahme über einen QR-Code auf dem Wochenmarkt-Plakat"]),
    ("Welche Dienste am meisten gewünscht werden", [
        "1. Wohnsitz ummelden ohne Termin",
        "2. Anwohnerparkausweis beantragen",
        "3. Führungszeugnis bestellen",
        "4. Kita-Platz anmelden"]),
    ("Was Menschen abhält", [
        "Viele kennen ihr Servicekonto nicht oder haben das Passwort vergessen",
        "Die Online-Ausweisfunktion ist bei den meisten nicht eingerichtet",
        "Ältere fürchten, am Bildschirm etwas falsch zu machen"]),
    ("Folgerungen für den Zeitstrahl", [
        "Hilfe beim Einrichten der Online-Ausweisfunktion im Bürgerbüro anbieten",
        "Jeder digitale Dienst bleibt auch persönlich erreichbar",
        "Eine Kurzanleitung in einfacher Sprache zu jedem Online-Antrag"]),
]

# --- Markdown: checklist for the Hiddenhausen service agreement ------------------------------

CHECKLIST_TITLE = "Checkliste Dienstvereinbarung mobiles Arbeiten"
CHECKLIST_MARKDOWN = """# Checkliste Dienstvereinbarung mobiles Arbeiten

## Arbeitsschutz zu Hause

- Die Beschäftigten bestätigen einmal im Jahr mit einem kurzen Selbstcheck, dass Stuhl,
  Bildschirm und Beleuchtung geeignet sind.
- Ein zweiter Monitor und ein Headset werden auf Wunsch gestellt; Möbel nicht.

## Vertraulichkeit

- Akten mit Sozialdaten werden nicht ausgedruckt und nicht mit nach Hause genommen.
- Für Arbeiten im Zug oder Café gibt es eine Sichtschutzfolie für das Notebook.

## Unfallversicherung und Fahrtkosten

- Der Weg zum Rathaus an einem Präsenztag ist ein versicherter Arbeitsweg.
- Kosten für Strom und Internet zu Hause werden nicht erstattet.
"""
