"""Write ``labelled.jsonl``: the evaluation set of the coding suggestions (see README.md).

    .venv/bin/python tests/results/qualitative/make_labelled.py

Two sources, one sentence a line:

* ``vignette``: sentences written by hand for tiplab in the style of survivor-interview and NGO
  case notes, labelled with the ILO forced-labour indicators they express (FL01-FL11), most of
  them without the codebook's cue phrases; about a third are hard negatives (ordinary jobs
  with long hours, lawful deductions, a boss who keeps a copy of a passport for the payroll).
* ``simulated``: sentences of narratives written by :mod:`tiplab.simulate.narratives`, with the
  indicator codes the simulator put in them; the ``pool`` split uses one half of the
  paraphrases (``variant="a"``) and the ``test`` split the other (``variant="b"``), from seeds
  the demo does not use.

Splits: vignettes are shuffled within groups of the same first label (seed 2024) and dealt
alternately to ``pool`` and ``test``, so both splits hold every indicator.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CODES = tuple(f"FL{i:02d}" for i in range(1, 12))
SIM_POOL = 200   # narratives whose sentences go to the pool split
SIM_TEST = 60    # narratives whose sentences go to the test split
SEED_POOL, SEED_TEST = 9101, 9202  # not the demo's seed (42)

# (sentence, space-separated FL codes; "" = none of the indicators)
VIGNETTES: list[tuple[str, str]] = [
    # FL01 abuse of vulnerability
    ("He knew I had overstayed my visa, so he paid me whatever he wanted.", "FL01 FL08"),
    ("Because my permit had run out, I could not say no to anything.", "FL01"),
    ("She chose girls who had just arrived and spoke no Italian.", "FL01"),
    ("He said that without him I would be on the street, and I believed him.", "FL01"),
    ("The boss knew my mother was sick at home and I needed every cent.", "FL01"),
    ("I slept in the room above the shop, so losing the job meant losing the bed too.", "FL01"),
    ("As I was in the country illegally, I thought no one would help me.", "FL01"),
    ("They picked men from the shelter who had no one here.", "FL01"),
    ("Respondent says the employer took advantage of the fact that she could not read.", "FL01"),
    ("My visa was linked to that family, so if I left them I would have to leave the country.",
     "FL01"),
    ("He was sixteen and homeless when the man offered him a place to stay in exchange for work.",
     "FL01"),
    ("They knew we could not go to the authorities without residence papers.", "FL01"),
    # FL02 deception
    ("At home they described an office job, but when I landed they sent me to a brothel.",
     "FL02"),
    ("The wage on the paper I signed in Manila was three times what I actually got.", "FL02 FL08"),
    ("I thought I was going to work as a nanny for a doctor.", "FL02"),
    ("Client was recruited for hotel work; on arrival he was taken to a cannabis farm.", "FL02"),
    ("They assured us everything was legal and that we would get work permits.", "FL02"),
    ("The agent showed me photos of a nice apartment which did not exist.", "FL02"),
    ("She signed a contract in Romanian and then had to sign another one she could not read.",
     "FL02"),
    ("The company in the advert did not exist; the man who met us worked for himself.", "FL02"),
    ("Nothing he told me about the work turned out to be true.", "FL02"),
    ("We were told the season would last three months with free housing, but we paid rent and "
     "stayed a year.", "FL02"),
    ("I was meant to study and work part time, but there was never any school.", "FL02"),
    ("Instead of the restaurant they had talked about, it was a massage place.", "FL02"),
    # FL03 restriction of movement
    ("The gate was kept shut and only the driver had the key.", "FL03"),
    ("We could only go to the shop once a week and a man came with us.", "FL03"),
    ("At night they bolted our door from the outside.", "FL03"),
    ("If I wanted to leave the flat I had to ask permission.", "FL03"),
    ("There was someone watching the yard all the time so nobody could walk out.", "FL03"),
    ("They drove us from the barracks to the field and back; we never went anywhere else.",
     "FL03"),
    ("I was kept inside the house for almost two years.", "FL03"),
    ("The windows were nailed shut.", "FL03 FL10"),
    ("Whenever she left, the wife of the boss followed her.", "FL03"),
    ("The men who ran the site did not let anyone off the premises after dark.", "FL03"),
    ("She tried to go out once and they dragged her back inside.", "FL03 FL05"),
    # FL04 isolation
    ("They took away my mobile the first day.", "FL04"),
    ("For eight months my family did not know if I was alive.", "FL04"),
    ("The farm was hours from the nearest village and we had no car.", "FL04"),
    ("I was forbidden to speak with the other workers.", "FL04"),
    ("We were at sea for most of the year and only came to port to unload.", "FL04"),
    ("Nobody outside knew we were living in the basement.", "FL04"),
    ("He checked my messages and deleted my friends' numbers.", "FL04"),
    ("We did not know the name of the town we were in.", "FL04"),
    ("Client reports no means of calling home during the whole period.", "FL04"),
    ("The other women in the house did not speak my language and I was not allowed to meet "
     "anyone else.", "FL04"),
    ("They moved us every few weeks so we never got to know anyone.", "FL04"),
    # FL05 physical and sexual violence
    ("He slapped me when the rooms were not clean enough.", "FL05"),
    ("The supervisor kicked a boy who fell asleep in the field.", "FL05"),
    ("She came to us with burns on her arms from the iron.", "FL05"),
    ("The owner came to my room at night and forced himself on me.", "FL05"),
    ("They made us drink before the clients came.", "FL05"),
    ("He broke my finger when I asked for my money.", "FL05 FL08"),
    ("When I said no, two men held me down.", "FL05"),
    ("One of the guards punched me in the face.", "FL05"),
    ("I was injured when he pushed me down the stairs.", "FL05"),
    ("The boss made us take pills so we could work through the night.", "FL05 FL11"),
    ("Survivor describes repeated assaults by the man who controlled the flat.", "FL05"),
    # FL06 intimidation and threats
    ("He told me that if I spoke to the police they would put me on the next plane home.",
     "FL06"),
    ("They said they would send the photos to my father.", "FL06"),
    ("He showed me a knife and said I knew what would happen.", "FL06"),
    ("The woman kept saying that my little brother would pay if I ran.", "FL06"),
    ("I was scared all the time because they said immigration was looking for me.", "FL06"),
    ("They warned us that the last girl who left was found in the river.", "FL06"),
    ("He screamed at us and called us animals.", "FL06"),
    ("If you complain, you will never work in this town again, he said.", "FL06"),
    ("They said they knew the village where my children live.", "FL06"),
    ("The manager told us any worker who talked to the inspector would be fired and reported.",
     "FL06"),
    ("We were told we would be arrested for working illegally if we made trouble.", "FL06 FL01"),
    # FL07 retention of identity documents
    ("At the airport the man asked for my passport and I never saw it again.", "FL07"),
    ("The boss has all our ID cards in his safe.", "FL07"),
    ("My papers were with the agency the whole time.", "FL07"),
    ("When I asked for my identity card he said I would get it when the contract ended.", "FL07"),
    ("They collected the passports to register us and did not return them.", "FL07"),
    ("Her residence permit was kept by the family she worked for.", "FL07"),
    ("I had only a photocopy of my passport; the original stayed with the recruiter.", "FL07"),
    ("Client states his travel documents were confiscated on day one.", "FL07"),
    ("He needed his passport to go home but the employer refused to hand it over.", "FL07"),
    ("The woman who brought me here keeps my papers in her bag.", "FL07"),
    ("Without my passport I could not even open a bank account.", "FL07"),
    # FL08 withholding of wages
    ("I worked four months and got nothing.", "FL08"),
    ("He always said he would pay next week.", "FL08"),
    ("The money went into an account that only the boss could use.", "FL08"),
    ("Every Friday he gave us twenty euros and kept the rest.", "FL08"),
    ("All the cash from the clients went to her.", "FL08"),
    ("We were supposed to get our pay when the harvest was finished, and then they "
     "disappeared.", "FL08"),
    ("They deducted so much for food and the bed that there was nothing left.", "FL08 FL09"),
    ("My salary was sent to my uncle, not to me.", "FL08"),
    ("I never received a payslip or any money for the cleaning.", "FL08"),
    ("He keeps our earnings so that we will not run away.", "FL08 FL03"),
    ("She was owed almost a year of wages when she escaped.", "FL08"),
    # FL09 debt bondage
    ("I had to repay 8,000 euros for the journey before I could keep anything.", "FL09"),
    ("Each month the amount I owed got bigger, not smaller.", "FL09"),
    ("The fee for the job was taken from my wages for two years.", "FL09 FL08"),
    ("My family borrowed from the recruiter, so I had to stay until it was paid.", "FL09"),
    ("They charged us for the bus, the mattress and the gloves, and it all went on the bill.",
     "FL09"),
    ("If you break something, it is added to your debt.", "FL09"),
    ("He said I could go once I had paid him back, but that day never came.", "FL09"),
    ("The madam said I owed her for the flight, the clothes and the room.", "FL09"),
    ("We were told the visa cost had to be worked off first.", "FL09"),
    ("Interest was added every week to what I had borrowed.", "FL09"),
    ("Client explains that the loan for her passage tied her to the employer.", "FL09"),
    # FL10 abusive working and living conditions
    ("Twelve of us slept in one container with no window.", "FL10"),
    ("We cleaned the tanks with no masks or gloves.", "FL10"),
    ("The food was the leftovers from the restaurant, if there were any.", "FL10"),
    ("There was one tap for forty people and no shower.", "FL10"),
    ("I slept on a mat in the kitchen next to the dog.", "FL10"),
    ("When I cut my hand on the machine they gave me tape and told me to carry on.", "FL10"),
    ("The caravan had no heating and it was minus five outside.", "FL10"),
    ("We sprayed pesticides without any protection and many of us were vomiting.", "FL10"),
    ("The mattresses were full of bugs and the roof leaked.", "FL10"),
    ("Survivor reports she was given one meal a day.", "FL10"),
    ("There was no toilet on the site, we used the bushes.", "FL10"),
    # FL11 excessive overtime
    ("We started at five in the morning and finished after midnight.", "FL11"),
    ("In two years I did not have a single free day.", "FL11"),
    ("She looked after the children all day and the grandmother all night.", "FL11"),
    ("The shifts were eighteen hours and sometimes more.", "FL11"),
    ("We had to keep sewing until the order was done, even if it took all night.", "FL11"),
    ("There was no rest, not even on Sundays or holidays.", "FL11"),
    ("Refusing to stay late was not possible.", "FL11"),
    ("He worked on the boat for twenty hours at a stretch.", "FL11"),
    ("Client was on call around the clock in the house.", "FL11"),
    ("I only slept three or four hours a night.", "FL11"),
    ("They made us work through our breaks to fill the lorries.", "FL11"),
    # mixed
    ("He took our passports and told us the police would lock us up if we went out.",
     "FL07 FL06 FL03"),
    ("I owed them for the trip, they kept my pay and I worked every day from dawn.",
     "FL09 FL08 FL11"),
    ("She was beaten, her phone was taken and she was kept in the flat.", "FL05 FL04 FL03"),
    ("They promised a job in a bakery, then took my documents and locked me in a room.",
     "FL02 FL07 FL03"),
    # hard negatives: ordinary work, lawful practice, other topics
    ("I work long hours at the hospital, sometimes twelve-hour shifts, but I choose them and "
     "they are paid as overtime.", ""),
    ("The farm gave us a caravan with hot water and a kitchen.", ""),
    ("My manager keeps a copy of my passport for the payroll, as the law asks.", ""),
    ("I borrowed money from my brother to buy a car and I am paying him back slowly.", ""),
    ("The rent for the room is taken from my salary, as it says in my contract.", ""),
    ("I moved here three years ago and I like my job in the kitchen.", ""),
    ("The harvest season is busy and we work Saturdays, but Sundays are free.", ""),
    ("She phones her family every evening after work.", ""),
    ("He decided to leave the job because the pay was too low and found another one.", ""),
    ("The interview took place at the community centre with an interpreter.", ""),
    ("My employer paid for the flight and did not ask for it back.", ""),
    ("We have a union representative who checks the contracts.", ""),
    ("I was nervous on my first day because I did not know anyone.", ""),
    ("The agency found me a job in a warehouse and the wage was the legal minimum.", ""),
    ("Client is currently staying with her sister and attends language classes.", ""),
    ("The police officer explained my rights and gave me a leaflet.", ""),
    ("I get paid every two weeks by bank transfer.", ""),
    ("The construction site has a canteen and a first aid room.", ""),
    ("My boss is strict about safety and makes us wear helmets.", ""),
    ("In summer we start early to avoid the heat and stop at two.", ""),
    ("He lost his job when the factory closed and looked for work abroad.", ""),
    ("I have my passport with me and my residence card.", ""),
    ("The shelter staff helped her open a bank account.", ""),
    ("My cousin told me about the job and I applied online.", ""),
    ("We went to the beach on our day off.", ""),
    ("Some weeks I do extra shifts to save money for my wedding.", ""),
    ("The hotel gave us uniforms and a locker.", ""),
    ("She left the family after six months and now works in a shop.", ""),
    ("Case worker notes the client is calm and wants to go back to school.", ""),
    ("The boat trip to the island takes two hours.", ""),
    ("My visa is valid for two more years.", ""),
    ("I was scared of the exam but I passed it.", ""),
    ("The inspector visited the site and found the paperwork in order.", ""),
    ("We share a flat, four friends, and split the rent.", ""),
    ("He owes the bank money for his mortgage, like everyone.", ""),
    ("The employer deducts tax and social security, and I get a payslip.", ""),
    ("The children go to the local school and play football after class.", ""),
    ("My father was a fisherman and I grew up near the sea.", ""),
    ("The doctor gave me a week of sick leave.", ""),
    ("There is a lock on my door and I have the key.", ""),
    ("I was promoted to team leader last year.", ""),
    ("She keeps her savings in a bank account in her own name.", ""),
    ("The night shift pays more, so I asked for it.", ""),
    ("We met at a church event and became friends.", ""),
    ("The farmer drives us to town every Saturday to do our shopping, if we want.", ""),
    ("He threatened to quit if they did not raise his salary.", ""),
    ("The recruitment agency charged the employer, not us.", ""),
    ("I live far from the city, so I take the bus for an hour.", ""),
    ("My phone is old but it works.", ""),
    ("The contract was in my language and I kept a copy.", ""),
]


def vignettes() -> list[dict[str, object]]:
    rows = []
    for i, (text, codes) in enumerate(VIGNETTES, 1):
        labels = sorted(set(codes.split()))
        bad = [c for c in labels if c not in CODES]
        if bad:
            raise SystemExit(f"vignette {i}: unknown code(s) {bad}")
        rows.append({"id": f"v{i:03d}", "source": "vignette", "text": text, "codes": labels,
                     "first": codes.split()[0] if codes else ""})
    groups: dict[str, list[dict[str, object]]] = {}
    for r in rows:
        groups.setdefault(str(r["first"]), []).append(r)
    rnd = random.Random(2024)
    flip = 0
    for key in sorted(groups):
        members = groups[key]
        rnd.shuffle(members)
        for r in members:
            r["split"] = "pool" if flip % 2 == 0 else "test"
            flip += 1
    for r in rows:
        del r["first"]
    return rows


def simulated() -> list[dict[str, object]]:
    from tiplab.simulate.narratives import narrate, sample_people

    rows = []
    for split, n, seed, variant in (("pool", SIM_POOL, SEED_POOL, "a"),
                                    ("test", SIM_TEST, SEED_TEST, "b")):
        rng = np.random.default_rng(seed)
        people = sample_people(n, rng)
        for k, person in enumerate(people):
            nar = narrate(person, rng, variant=variant)
            for j, (text, codes) in enumerate(nar.sentences):
                rows.append({"id": f"s{split[0]}{k:03d}.{j}", "source": "simulated",
                             "text": text, "codes": sorted(c for c in codes if c in CODES),
                             "split": split})
    return rows


def main() -> None:
    rows = vignettes() + simulated()
    out = HERE / "labelled.jsonl"
    with out.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps({k: r[k] for k in ("id", "split", "source", "text", "codes")},
                                ensure_ascii=False) + "\n")
    counts: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (str(r["source"]), str(r["split"]))
        counts[key] = counts.get(key, 0) + 1
    sys.stdout.write(f"{out}: {len(rows)} sentences " + json.dumps(
        {f"{s}/{p}": n for (s, p), n in sorted(counts.items())}) + "\n")


if __name__ == "__main__":
    main()
