"""The lexicon layer: warning signs in other languages, each mention read in its context (ConText)."""

import tomllib

import pytest

from chats.safety.classifier import EMERGENCY_SIGNS, message_classify
from chats.safety.lexicons import LEXICON_DIR, lexicon_read
from chats.safety.notices import SIGN_DESCRIPTIONS, safety_instructions_build


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        # Spanish, every sign.
        ("estoy embarazada de 22 semanas y estoy sangrando muchísimo", "bleeding"),
        ("desde ayer no siento a mi bebé moverse, 36 semanas", "baby_movement"),
        ("mi bebé de 3 semanas tiene los labios morados", "breathing"),
        ("tuve una convulsión hace un rato", "seizure"),
        ("ya no quiero estar aquí, estarían mejor sin mí", "self_harm"),
        ("escucho voces que me dicen que el bebé está poseído", "psychosis"),
        ("el dolor de cabeza no se me quita con nada", "headache"),
        ("veo lucecitas y todo borroso", "vision"),
        ("me desmayé en la cocina", "dizziness"),
        ("me duele el pecho y el corazón a mil", "chest_heart"),
        ("se me rompió la fuente y tengo 33 semanas", "fluid_leak"),
        ("se me rompió la fuente y el agua salió verde", "waters_meconium"),
        ("siento el cordón afuera", "cord_prolapse"),
        ("la bebé está muy aguadita y no abre los ojos", "newborn_floppy"),
        ("mi bebé nació ayer y ya está amarillo de la cara", "newborn_jaundice"),
        # Spanish with English.
        ("I'm 33 weeks y estoy sangrando bright red", "bleeding"),
        # The strongest signs in French, Portuguese, Polish, German, Italian, Arabic and Chinese.
        ("je saigne beaucoup, enceinte de 29 semaines", "bleeding"),
        ("o bebê não está respirando, ficou roxo", "breathing"),
        ("dziecko nie oddycha", "breathing"),
        ("mein Baby atmet nicht", "breathing"),
        ("il bambino non si muove da stamattina", "baby_movement"),
        ("أنا حامل وعندي نزيف", "bleeding"),
        ("宝宝嘴唇发紫", "breathing"),
        ("我想死", "self_harm"),
        ("j'ai des convulsions", "seizure"),
        # English, for the signs the phrase rules do not cover.
        ("she's been like a rag doll for an hour, 10 days old", "newborn_floppy"),
        ("the yellow has gone down to her legs and tummy now", "newborn_jaundice"),
        ("no wet nappy since 9 last night and she's barely feeding", "newborn_feeding"),
        ("my 7 week old just went rigid and his arms and legs shook for about a minute", "newborn_seizure"),
        ("I can hear voices telling me the baby is evil", "psychosis"),
        ("i can feel the cord down there", "cord_prolapse"),
        ("waters went and they're green", "waters_meconium"),
        ("her lips have gone a bluey grey colour", "newborn_breathing"),
        ("only 2 kicks in the last 4 hours, normally she's constant. 36+1", "baby_movement"),
        ("everything I drink comes straight back up, even ice chips. 9 weeks", "vomiting"),
        ("there's a rotten smell down below since the birth", "postpartum_discharge"),
        ("SROM? clear fluid gush 20 mins ago, 34+6", "fluid_leak"),
    ],
)
def test_a_sign_named_in_another_language_is_found(text: str, sign: str) -> None:
    assert sign in lexicon_read(text=text).signs


@pytest.mark.parametrize(
    "text",
    [
        # Negated.
        "no tengo sangrado, solo un poco de dolor de espalda",
        "no me he desmayado, solo me mareo al pararme",
        "no quiero hacerme daño, solo estoy cansada",
        "Non je pense pas à me faire du mal",
        # Over.
        "hace 2 semanas tuve una hemorragia pero ya estoy bien",
        "en mi primer parto tuve hemorragia, ¿qué puedo pedir ahora?",
        "el bebé se puso morado al atragantarse, lo revisaron y dijeron que fue reflujo",
        # Asked about, in case or for knowledge.
        "¿qué pasa si tengo convulsiones en el parto?",
        "¿qué es una convulsión eclámptica?",
        # Someone else's.
        "mi esposo tiene convulsiones desde niño",
        "mi hijo de 3 años se pone morado cuando hace berrinche",
        # A figure of speech.
        "me quiero morir de la vergüenza jajaja",
        "me quedé sin aire de la emoción",
        # Spotting is not heavy bleeding.
        "estoy sangrando un poquito, como manchitas",
        # Waters at term are labour.
        "se me rompió la fuente y tengo 39 semanas",
        # English context.
        "What should I do if the baby ever stops breathing? I want to do a course.",
        "Why do they tell you to look out for meconium in the waters?",
        "My waters were green with my first and she was fine",
        "How do I support a newborn's floppy head in the bath?",
        "my baby isn't floppy at all, just sleepy after a feed",
        # Movements not felt yet, early in a first pregnancy.
        "I'm 18 weeks and haven't felt the baby move yet, first pregnancy, is that ok?",
        "Had reduced movements on Sunday, went to triage, CTG was perfect",
    ],
)
def test_a_mention_out_of_scope_is_not_a_sign(text: str) -> None:
    assert lexicon_read(text=text).signs == set()


def test_someone_named_only_as_saying_it_does_not_take_the_sign_away() -> None:
    assert "breathing" in lexicon_read(text="mi mamá dice que el bebé tiene los labios morados").signs


def test_a_terminator_ends_a_triggers_reach() -> None:
    assert "bleeding" in lexicon_read(text="ayer no tenía nada pero ahora estoy sangrando mucho").signs


def test_every_sign_a_lexicon_names_is_one_the_classifier_reports() -> None:
    # A sign outside EMERGENCY_SIGNS would raise the notice but leave the turn's signs, and the
    # model's safety instructions, empty.
    named = {sign for path in LEXICON_DIR.glob("*.toml") for sign in tomllib.loads(path.read_text())["signs"]}
    assert named <= set(EMERGENCY_SIGNS)


def test_a_psychosis_sign_is_a_mental_health_emergency_the_model_is_told_of() -> None:
    classification = message_classify(text="escucho voces que me dicen que el bebé está poseído")
    assert classification.emergency_signs == ("psychosis",)
    assert "mental_health" in classification.detected_categories
    assert SIGN_DESCRIPTIONS["psychosis"] in safety_instructions_build(classification=classification)


def test_the_lexicon_layer_makes_a_spanish_emergency_an_emergency() -> None:
    classification = message_classify(text="estoy sangrando muchísimo y tengo 30 semanas")
    assert classification.is_emergency and "bleeding" in classification.emergency_signs
    assert not message_classify(text="estoy sangrando muchísimo y tengo 30 semanas", layers=("rules",)).is_emergency
