# ruff: noqa: E501  (the marked-up notes keep their own line breaks: the marks make them long)
"""Write ``labelled.jsonl``: interview-note paragraphs with gold identifying spans.

Each note below is one paragraph (blank lines separate notes; a note may span several lines,
as typed notes and transcripts do). A gold span is marked ``[[kind:text]]``; the script strips
the marks and records each span's offsets in the plain text. Labelling rules are those of
``tests/results/redaction/README.md``: ``name`` is a given name, surname or nickname (titles
such as Mr, Mrs, Auntie are not part of it); ``place`` is a country, region, city, town or
named neighbourhood (not a nationality or a language); ``address`` is a street with its
number (a flat number before it is not marked) or a postcode; ``document`` a passport, ID,
residence-permit or NI number; ``phone``, ``email``, ``date``, ``handle``, ``account``, ``url``
as there.

Written by hand for tiplab, in English, to resemble the notes NGO caseworkers, police
officers and researchers type after an interview: third person, longer than the short answers
of the first set, with names that are not in any gazetteer, names opening sentences with no
cue, everyday words that are also names, and six notes with no identifying detail at all.
Every person, number and address is invented; UK phone numbers use the 07700 900xxx range
kept for fiction.

``split``: ``dev`` notes may train the redaction model (``scripts/train_redaction_model.py``);
``heldout`` notes were written at the same time but are never trained or tuned on: only
``measure.py`` reads them.

    .venv/bin/python tests/results/qualitative_redaction/make_labelled.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

MARK = re.compile(r"\[\[(\w+):(.+?)\]\]", re.S)

DEV = r"""
Interview with [[name:Thandiwe]] at the drop-in centre. She was recruited in [[place:Durban]] by a
woman she knew from church, who offered her a cleaning job in [[place:London]]. On arrival
the woman's brother, [[name:Sipho Mahlangu]], took her passport and told her she owed him
for the flight.

Caseworker note: [[name:Besnik]] (says he is 17) was found by police at a car wash on the
edge of [[place:Wolverhampton]]. He was sleeping in a storage room with two other boys. He
gave a phone number for his mother, [[phone:+355 69 555 0143]], but it did not connect.

Met the client with an interpreter. [[name:Nguyet]] worked in a nail bar in [[place:Peckham]] for
eleven months. The owner, known to her only as Auntie [[name:Lan]], kept her wages "for safety". She
lived above the shop at [[address:212 Rye Lane]].

[[name:Oluwaseun]] called the helpline from a borrowed phone. He is from [[place:Ibadan]] and came on a
student visa arranged by an agent. The agent, Mr [[name:Adeyemi]], still calls him on [[phone:07700 900417]]
and demands money every week.

Follow-up call with [[name:Mirela]]. Her residence permit [[document:ZX9041776]] has expired and she is
afraid to renew it. She now lives with her cousin [[name:Dorina]] in [[place:Leeds]].

Officer's note: the van was stopped on the M6 near [[place:Stafford]]. The driver, [[name:Florin Ciobanu]],
held four Romanian passports, including one in the name of [[name:Ionela Marin]], number [[document:058812449]].

The survivor said [[name:Kiri]] brought her to the flat and introduced her to the others. She does not
know his surname. Later she heard the men call him "[[name:Tiger]]". She was kept at Flat 4,
[[address:31 Belmont Street]], [[place:Aberdeen]].

Q: Who drove you to the farm?
A: [[name:Rustam]]. Every morning at five. He also took our phones at night.
Q: Where was the farm?
A: Near [[place:Wisbech]], I think. Nobody told us the name.

Notes from the outreach session in [[place:Moss Side]]. Two women approached us. The older one,
[[name:Precious]], said a man called [[name:Uche]] controls their work and posts their adverts online. She
gave us his number, [[phone:07700 900982]].

[[name:Tsegay]] arrived in [[place:Calais]] after crossing [[place:Libya]]. In the camp a smuggler named
[[name:Habte]] promised him work in [[place:Birmingham]] and a room for £50 a week.

Client reports that her employer, Mrs [[name:Khalil]], locked the door when the family went out.
She was not allowed to use the phone. Her Indonesian passport, number [[document:B4471920]], is still
in a drawer in the house at [[address:9 Alder Close]], [[address:HA8 7QT]].

Spoke with [[name:Dritan]] and his wife [[name:Elira]] at the reception centre. They were told
to say they were tourists. [[name:Dritan]] owes the organisers €8,000 for the journey from [[place:Durrës]].

The caller, a neighbour, said she sees young men brought to [[address:47 Chapel Street]] every night in
a white minibus. She gave her name as [[name:Joan]] and her number as [[phone:0161 496 0772]].

[[name:Marisol]] was promised a job as a nanny in [[place:Manchester]]. The family, the [[name:Hendersons]], paid
her nothing for a year and kept her passport. She slept in the children's room.

Interview notes: [[name:Ikenna]] is 24 and from [[place:Enugu]]. He came to work on a building site
for a man he calls "Oga [[name:Tunde]]". His NI number is [[document:JK402917C]] but his wages went into
someone else's account.

[[name:Lavinia]] told us she was recruited on Facebook by someone calling himself [[name:Sione]]. He said
there was fruit-picking work in [[place:Herefordshire]] with free housing. There was no free housing.

Police referral. The victim, [[name:Bogdan Rusu]], was found at a hand car wash at [[address:150 Ashton Old Road]].
His employer, [[name:Gheorghe]], took £100 a week for "rent" from his pay.

The girl gave her name as [[name:Ama]] but her documents say [[name:Abena Owusu]]. She says her aunt
in [[place:Kumasi]] arranged everything. Passport [[document:G2871546]] was held by the couple.

Second session with [[name:Zaw]]. He worked on a fishing boat off [[place:Scotland]] for two seasons
without a day off. The skipper, [[name:Callum]], hit him when he was slow.

[[name:Maame]] rang back from [[phone:+44 7700 900354]]. She is safe at her sister's in [[place:Croydon]] and wants
to talk to a lawyer before she speaks to the police again.
"""

HELDOUT = r"""
Interview with [[name:Nkechi]] at the safe house. She came from [[place:Benin City]] with two other girls.
A woman called Madam [[name:Joy]] paid for the journey and made them swear an oath before they
left. In [[place:Palermo]] they were handed to a man called [[name:Osas]].

[[name:Ardit]] says he was 16 when he left [[place:Kukës]]. A man from his village, [[name:Xhemal]], arranged the
lorry. For six months he tended cannabis plants in a house at [[address:26 Harrow Road]], [[place:Sunderland]],
and was never allowed out.

Caseworker note: client's passport [[document:P7730158]] and her daughter's birth certificate are
with the employer, Mr [[name:Saeed]]. Client's phone is [[phone:07700 900661]]; call only after 7pm.

[[name:Thuy]] worked twelve-hour shifts in a nail salon in [[place:Glasgow]]. She slept on the floor of
the back room. [[name:Minh]], the owner's nephew, drove her to work and back.

The young man would only give his first name, [[name:Kwabena]]. He said [[name:Yaw]] and [[name:Kofi]] from his
hometown recruited him for a football academy in [[place:Spain]] that did not exist. He ended up
selling phones in [[place:Lisbon]].

Hotline log: a caller reported that women are kept at [[address:88 Wellington Road]], [[place:Bradford]]. Men
arrive at all hours. The caller did not want to give a name and called from [[phone:01632 960483]].

Met [[name:Svetlana]] with her support worker [[name:Rachel]]. She was brought from [[place:Moldova]] by her
boyfriend, [[name:Andrei]], who said they would marry in [[place:Italy]]. Instead he sold her to a
man in [[place:Milan]].

[[name:Hope]] does not trust the police. When officers raided the house in [[place:Tottenham]] they
arrested her for working without a permit. Her identity card [[document:NG-5512087]] was never
returned.

Q: How did you meet [[name:Chidi]]?
A: On Instagram. He said he was a photographer.
Q: What happened in [[place:Amsterdam]]?
A: He took my phone. [[name:Esther]] told me I owed them for the hotel.

Officer's statement: on arrival at the premises, [[address:4 Mill Street]], [[address:LU1 2NA]], I found five men
sleeping in the loft. One of them, [[name:Piotr Nowak]], spoke some English and said the
boss, [[name:Krzysztof]], had their identity cards.

[[name:Grace]] explained that her uncle sent her to [[place:Accra]] at fourteen to live with a family who
promised school. Instead she sold water on the street. The family's mother, [[name:Akosua]], beat her.

[[name:Jamal]] and his brother [[name:Karim]] paid a smuggler in [[place:Izmir]] to reach [[place:Greece]]. In [[place:Athens]]
a man named [[name:Abu Samir]] offered them work and then said the debt had doubled.

The note-taker was told the employer is known locally as "[[name:Big Mick]]". He runs a tarmac business
from a yard near [[place:Kettering]] and recruits homeless men outside the shelter on [[address:12 Station Road]].

[[name:Oksana]] gave her new number, [[phone:+44 7700 900209]], and asked us not to write to her old address.
She has moved to [[place:Cardiff]] with her son [[name:Artem]].

[[name:Will]] (not his real name) was recruited outside a day centre in [[place:Bristol]]. He was taken to a
farm in [[place:Somerset]] and worked for food and cider. The farmer's son, [[name:Gavin]], took his bank card.

Interview with [[name:Leidy]], 19. She answered an advert for a waitress job in [[place:Madrid]] posted by a
woman named [[name:Yesenia]]. Her passport, number [[document:AT7712564]], was taken at the airport.

[[name:Sunita]] worked as a domestic worker for a diplomat's family in [[place:Kensington]]. Mrs [[name:Rao]] kept her
passport and paid her wages to her husband in [[place:Kathmandu]].

Safeguarding referral: [[name:Deng]], aged about 15, found begging outside [[place:Victoria]] station. He said
a man he calls "Uncle [[name:Peter]]" collects the money every evening and takes them to a house in [[place:Ilford]].

[[name:Fatou]] and [[name:Aminata]] were brought from [[place:Dakar]] by a woman who said she ran a hair salon in
[[place:Paris]]. They worked in three different flats and never saw money.

Caller ([[name:Debbie]], nurse at the walk-in clinic) reports a patient with burns on both hands who
said his boss at the recycling yard, [[name:Tariq]], would not let him see a doctor.

[[name:Rosa]] says she is from [[place:Cochabamba]]. She came to [[place:Barcelona]] through an agency called
Servicios Globales and then to [[place:London]] with the family of her employer, Señora [[name:Vidal]].

Transcript extract.
Interviewer: And who kept your documents?
Respondent: [[name:Marius]]. He said he needed them for the bank. He kept my ID, [[document:RX 847112]].
Interviewer: Did you ever get it back?
Respondent: No.

[[name:Hamid]] sleeps in a tent behind the car wash on [[address:63 Bath Road]]. He said [[name:Farhad]] brought him
from [[place:Herat]] through [[place:Iran]] and [[place:Turkey]] and that the family still owes money to [[name:Farhad]]'s cousin.

Second interview. [[name:Bella]] now stays with a friend in [[place:Sheffield]]. Her ex-partner, [[name:Jordan]],
still messages her and posts her photos online. She gave his number, [[phone:07700 900736]], for the police.
"""

NEGATIVES = r"""
The client described long hours, no days off and being told she owed money for her
accommodation. She was afraid of being deported and did not trust the police. She
would like help finding a lawyer and a shelter place.

Outreach session at the night shelter. We spoke to six men about their rights at work.
None reported being held against their will, but two said they were paid less than the
minimum wage and one had his bank card kept by an agent.

Interview postponed: the interpreter did not arrive. The survivor agreed to come back next
week. She asked whether the Home Office would be told about her visit.

The family depended on her wages. She said she will never forget the grace and kindness of
the nurses who treated her. In May she began a course in English and hopes to start work in
the autumn.

Summary of the group session: participants spoke about debts to recruiters, fear of reprisals
against their families and the long wait for a decision. Several said they would not have
come forward without the Red Cross worker who went with them.

The officer noted bruising on his arms and that he appeared underweight. He said the boss
would hurt his mother if he talked, and that the house had cameras in every room. He was
referred to the national referral mechanism the same day.
"""


def parse(block: str) -> tuple[str, list[dict[str, object]]]:
    text, spans, pos = [], [], 0
    for m in MARK.finditer(block):
        text.append(block[pos:m.start()])
        start = sum(len(t) for t in text)
        text.append(m.group(2))
        spans.append({"start": start, "end": start + len(m.group(2)), "kind": m.group(1),
                      "text": m.group(2)})
        pos = m.end()
    text.append(block[pos:])
    return "".join(text), spans


def notes(block: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", block.strip()) if p.strip()]


def main() -> None:
    out = Path(__file__).with_name("labelled.jsonl")
    rows = []
    for split, prefix, block in (("dev", "note", DEV), ("heldout", "note-h", HELDOUT),
                                 ("heldout", "note-n", NEGATIVES)):
        for i, note in enumerate(notes(block)):
            text, spans = parse(note)
            if "[[" in text or "]]" in text:
                raise SystemExit(f"a mark is not closed in: {note}")
            rows.append({"id": f"{prefix}-{i + 1:03d}", "split": split, "language": "en",
                         "text": text, "spans": spans})
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                   encoding="utf-8")
    kinds: dict[str, int] = {}
    for r in rows:
        for s in r["spans"]:
            kinds[s["kind"]] = kinds.get(s["kind"], 0) + 1
    print(f"{len(rows)} notes, {sum(kinds.values())} spans {kinds} -> {out}")


if __name__ == "__main__":
    main()
