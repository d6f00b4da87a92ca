"""Write ``labelled.jsonl`` from the marked-up texts below (run from the repository root).

Each text marks a gold span as ``[[kind:text]]``; the script strips the marks and records the
span's offsets in the plain text. The texts were written by hand for tiplab to resemble short
survivor answers and case notes (English, French, Spanish), informal, often lower-case, with
typos; every name, number, address and account is invented (phone numbers use ranges kept for
drama/fiction where a country has one: UK 07700 900xxx, FR 06 39 98 xx xx). About a quarter are
hard negatives: no identifying detail, but months, numbers of people, money, ages, common
words that are also names or places.

Labelling rules (docs/redaction.md repeats them):

- ``name``: a person's given name, surname, nickname; titles (Mr, Mme, Sra) are not part of it.
- ``place``: countries, regions, cities, towns, named neighbourhoods; not nationalities or
  languages.
- ``address``: street and number (and flat/floor), postcodes; ``date``: a day with month and year,
  or a day and month of birth; a month alone, a year alone or an age is not a date.
- ``phone``, ``email``, ``url``, ``handle`` (@name, or the user name after "insta:", "fb:"),
  ``account`` (IBAN, card), ``document`` (passport, ID, residence permit numbers).

    python tests/results/redaction/make_labelled.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

MARK = re.compile(r"\[\[(\w+):(.+?)\]\]")

EN = r"""
my name is [[name:Amina]] and i came from [[place:Lagos]] in 2019
he took my passport, the number was [[document:A05123987]]
call me on [[phone:+44 7700 900123]] after 6pm please
you can reach my sister at [[phone:07700-900-456]], she knows everything
my whatsapp is [[phone:+234 803 555 0192]]
email me [[email:grace.okafor88@gmail.com]] not my phone
the boss was a man called [[name:Viorel]], everyone was scared of him
Mr [[name:Petrescu]] kept our documents in his office
i lived at [[address:14 Carlton Road]], [[place:Leicester]] with 6 other girls
we stayed in a house on [[address:221B Baker Street]] for two weeks
flat 3, [[address:45 Mill Lane]] was where they kept us
born [[date:12/03/1998]] in [[place:Benin City]]
my date of birth is [[date:3 March 1998]]
i was born on the [[date:21st of June 2001]]
they paid into account [[account:GB29 NWBK 6016 1331 9268 19]] every week
my card number was [[account:4539 1488 0343 6467]] but he kept the card
she posts as [[handle:@lily_rose_22]] on instagram
find him on tiktok [[handle:@bossman.k]]
the agency website was [[url:www.jobs-abroad-now.co.uk]]
they sent the link [[url:https://bit.ly/3xYzAbC]] to apply
Mrs [[name:Okonkwo]] from the church helped me escape
my friend [[name:Mariana Popescu]] was also there
his name was [[name:Ahmed]], he drove the van
we were taken to [[place:Calais]] then to [[place:Dover]] in a lorry
i worked in a car wash in [[place:Birmingham]] for 8 months
[[name:Nguyen Van Minh]] was the one who brought us from [[place:Vietnam]]
the man who recruited me is [[name:Dritan]], albanian, maybe 40
i am [[name:Fatima]], i am 19
residence permit no [[document:ZU4581236]] was taken from me
ID card [[document:RO 4587123]] still with the employer
they called me on [[phone:0044 7700 900789]] every night
my number changed, now it is [[phone:07700 900 321]]
he said his name is [[name:john]] but i think it was fake
i came with [[name:blessing]] and [[name:joy]], we were all from [[place:Edo State]]
the farm was near [[place:Boston]], [[place:Lincolnshire]]
my mum lives in [[place:Iasi]], [[place:Romania]]
contact [[email:help.desk@safe-haven.org]] for more info
the recruiter's profile was [[url:facebook.com/jobs.uk.romania]]
passport [[document:AB1234567]] and my birth certificate were kept in a safe
case note: client [[name:Elena Ionescu]], dob [[date:04/11/1995]], referred by police
case note: met [[name:Mohammed Al-Sayed]] at [[address:12 High Street]], [[place:Slough]]
i am from [[place:Eritrea]], i crossed [[place:Libya]] and then [[place:Italy]]
we landed in [[place:Lampedusa]] in september
he used the name [[name:Tony]] but his real name is [[name:Antonio]]
insta: [[handle:maria.lopez.97]]
my brother [[name:Emeka]] is still in [[place:Abuja]]
the house was at [[address:7 Oak Avenue]], postcode [[address:B12 9QR]]
he hit me. call [[phone:+447700900555]] if you want to check
snap [[handle:kiki_xo99]] is how they contacted me
my nin is [[document:QQ123456C]]
i think they are still in [[place:Manchester]] maybe [[place:Bradford]]
she was 16 when she arrived. her name is [[name:Precious]]
we had 3 days off in 6 months
there were about 12 of us in one room
they took £400 every week for rent
i was 17 when it started, now i am 22
i want to go to college and study nursing
will you help me find a job? i can work may to september
i came in march and left in june
grace and mercy of god kept me alive
i worked 14 hours a day, 7 days a week
the police came twice but nobody asked us anything
mark the box if you need a lawyer
i paid 3,500 euros for the journey
we slept on the floor, 8 people in 2 rooms
my english is not good but i try
i would like counselling in my language
it happened between 2017 and 2019
rose early every day at 5 to go to the factory
they said i owed them 20000 and it grew every month
the van picked us up at 4am and dropped us at 8pm
nobody spoke to us for weeks, only orders
i feel safe now, thank you
i have two children, aged 4 and 7
yesterday [[name:olga]] and [[name:tatiana]] came back from [[place:Kharkiv]]
[[name:Ioana]] said [[name:Bogdan]] still has her id
case note: [[name:Chidinma Eze]] disclosed that [[name:Obinna]] sold her in [[place:Kano]]
spoke to [[name:Svetlana Kovalenko]] today, she wants to return to [[place:Odesa]]
In May we moved to a bigger house with a garden
Will they deport me if I talk to you?
the Grace Church gave us food on sundays
we were paid 2 pounds an hour sometimes nothing
the job advert said 1200 per month plus housing
"""

FR = r"""
je m'appelle [[name:Aïcha]] et je viens de [[place:Bamako]]
il s'appelle [[name:Moussa]], c'est lui qui gardait nos passeports
mon numéro c'est le [[phone:06 39 98 12 34]]
appelez ma tante au [[phone:+33 6 39 98 45 67]] svp
mon whatsapp : [[phone:+225 07 07 12 34 56]]
écrivez-moi à [[email:fatou.diallo@yahoo.fr]]
M. [[name:Kouassi]] nous faisait travailler la nuit
Mme [[name:Dubois]] nous a aidées à partir
j'habitais au [[address:14 rue de la Paix]] à [[place:Paris]]
on dormait dans un appartement [[address:23 avenue Jean Jaurès]], [[place:Lyon]]
l'adresse c'était [[address:5 bis rue Victor Hugo]], [[address:93200]] [[place:Saint-Denis]]
née le [[date:12 mars 1998]] à [[place:Abidjan]]
ma date de naissance : [[date:03/07/2000]]
je suis né le [[date:1er janvier 1997]]
passeport n° [[document:19AB12345]] confisqué par le patron
mon titre de séjour [[document:9876543210]] a expiré
carte d'identité [[document:X4RTBN5K2]] restée chez eux
ils versaient l'argent sur l'IBAN [[account:FR76 3000 6000 0112 3456 7890 189]]
sa page facebook c'est [[url:www.facebook.com/moussa.travail]]
il m'écrivait sur insta [[handle:@belle_vie_paris]]
on m'a promis un travail à [[place:Marseille]] dans un restaurant
on est passé par le [[place:Niger]] puis la [[place:Libye]]
j'ai été vendue à [[place:Tripoli]] puis amenée en [[place:Italie]]
la dame s'appelait [[name:Mama Joy]], elle était nigériane
mon cousin [[name:Ibrahim Traoré]] est encore au [[place:Mali]]
c'était une maison à [[place:Nice]], près de la gare
note: victime [[name:Mariam Koné]], née le [[date:15/09/2001]], orientée par l'ASE
note: entretien avec [[name:Kevin Mbappé]] au centre, très anxieux
le patron [[name:jean-pierre]] nous criait dessus tout le temps
j'ai travaillé dans les champs près de [[place:Perpignan]]
elle est partie à [[place:Bruxelles]] avec [[name:Aminata]]
mon frère [[name:Seydou]] vit à [[place:Dakar]], [[place:Sénégal]]
le numéro du chauffeur : [[phone:07 58 12 34 56]]
ils m'appelaient depuis le [[phone:0033 6 39 98 77 66]]
mon ex [[name:Karim Benali]] m'a mise dans ce réseau
on était logés au [[address:8 impasse des Lilas]]
adresse mail de l'agence : [[email:contact@emploi-europe.fr]]
le site [[url:http://travail-facile.com/offres]] proposait des postes
je viens du [[place:Cameroun]], de [[place:Douala]]
ma fille [[name:Grace]] est restée au pays avec ma mère
on nous a emmenées à [[place:Bordeaux]] en voiture
son surnom c'était [[name:Le Gros]]... non je ne sais pas
il se fait appeler [[name:Boss]] sur snapchat [[handle:@boss_75]]
numéro de passeport : [[document:AA0123456]]
la carte bancaire [[account:4970 1012 3456 7890]] était à mon nom
j'ai 24 ans et trois enfants
on travaillait 12 heures par jour, 6 jours sur 7
ils prenaient 300 euros par semaine pour le loyer
je suis arrivée en mars et partie en juin
nous étions 15 dans la maison
j'aimerais apprendre le français et trouver un travail
la police est venue une fois en été
le voyage a coûté 4 000 euros
j'avais 16 ans quand ça a commencé
merci pour votre aide, je me sens mieux maintenant
personne ne parlait notre langue
la nuit on dormait par terre, à 6 dans une chambre
je veux juste que mes enfants soient en sécurité
le patron disait que la dette était de 50 000
on avait un jour de repos par mois, parfois aucun
j'ai besoin d'un avocat et d'un médecin
ça a duré deux ans, de 2018 à 2020
pierre par pierre on reconstruit sa vie
la rose est ma fleur préférée, j'en avais dans mon jardin
le 14 juillet on entendait les feux d'artifice
[[name:Fatoumata]] et [[name:Awa]] sont parties avec [[name:Mamadou]] hier soir
entretien: [[name:Nadia Haddad]] veut porter plainte contre [[name:Youssef]]
on a vu [[name:Rachid]] à [[place:Lille]] la semaine dernière
En juin nous avons déménagé dans une maison plus grande
"""

ES = r"""
me llamo [[name:Lucía]] y soy de [[place:Asunción]]
se llama [[name:Wilmer]], él era el que nos cobraba
mi número es [[phone:+34 612 345 678]]
llámame al [[phone:612 34 56 78]] por la tarde
mi whatsapp [[phone:+57 310 555 1234]]
escríbeme a [[email:lucia.gomez95@hotmail.com]]
el señor [[name:Ramírez]] tenía nuestros pasaportes
la Sra. [[name:Fernández]] nos ayudó a salir
vivíamos en la [[address:Calle Mayor 5]], [[place:Madrid]]
el piso estaba en [[address:Avenida de la Constitución 23]], 3º B, [[place:Sevilla]]
nos tenían en [[address:c/ San Bernardo 12]], [[address:28015]] [[place:Madrid]]
nací el [[date:3 de marzo de 1998]] en [[place:Cali]]
fecha de nacimiento: [[date:15/06/1999]]
mi DNI es [[document:12345678Z]]
NIE [[document:X1234567L]], caducado
pasaporte nº [[document:AT458912]] se lo quedó el jefe
me pagaban a la cuenta [[account:ES91 2100 0418 4502 0005 1332]]
su perfil [[url:https://www.instagram.com/trabajos.espana]]
me escribía por insta [[handle:@chica_bonita_33]]
me prometieron trabajo en [[place:Barcelona]] cuidando niños
pasamos por [[place:Marruecos]] y llegamos a [[place:Almería]] en patera
trabajé en los invernaderos de [[place:El Ejido]] dos años
mi prima [[name:Yesenia Castro]] sigue en [[place:Murcia]]
el que me trajo fue [[name:Jhon Jairo]], colombiano
soy [[name:Rosa María]], tengo 23 años
me decían [[name:la flaca]]... no, mi nombre es [[name:Daniela]]
nota: víctima [[name:Carmen Ruiz Ortega]], nacida el [[date:22/08/2000]], derivada por Cruz Roja
nota: entrevista con [[name:Andrés Gómez]], se le ve muy asustado
el dueño del club, don [[name:Manolo]], nos controlaba todo
vengo de [[place:Paraguay]], de un pueblo cerca de [[place:Caaguazú]]
mi hermano [[name:Kevin]] está en [[place:Bogotá]]
nos llevaron a [[place:Valencia]] y luego a [[place:Alicante]]
el teléfono del jefe: [[phone:+34 699 123 456]]
me llamaban desde el [[phone:0034 655 987 321]]
el correo de la agencia era [[email:empleo.europa@gmail.com]]
la web [[url:www.trabajoenespana.net]] ponía que era legal
vivía en [[address:Plaza de España 4]], 2º izquierda
me quedé en casa de [[name:Marisol]] en [[place:Lavapiés]]
el jefe se llama [[name:Wang Wei]], tenía un bazar en [[place:Usera]]
mi hija [[name:Esperanza]] vive con mi madre en [[place:Honduras]]
cuando llegué a [[place:Málaga]] me quitaron el pasaporte
tarjeta [[account:5402 1234 5678 9010]], la tenía él
su número de teléfono [[phone:91 123 45 67]]
nací el [[date:7 de julio de 2002]] en [[place:Santa Cruz de la Sierra]], [[place:Bolivia]]
mi novio [[name:Brayan]] me convenció de venir
tengo 19 años y dos hijos
trabajábamos 14 horas al día, sin descanso
nos cobraban 400 euros al mes por la cama
llegué en marzo y me fui en agosto
éramos 10 en un piso de dos habitaciones
quiero aprender español y trabajar en una tienda
la policía vino una vez pero no nos preguntaron nada
el viaje costó 5.000 euros
tenía 17 años cuando empezó todo
gracias por escucharme, ahora estoy mejor
la deuda era de 30000 y cada mes subía
nos daban un día libre al mes
necesito un abogado y un médico
fue de 2016 a 2019
la paz es lo que más quiero ahora
el sol de mayo y la luz del día me dan esperanza
en la fiesta de la cruz bailamos todos
teníamos 3 días de descanso en 6 meses
la casa era blanca, con un patio grande
me pagaban 3 euros la hora, a veces nada
dormíamos en el suelo, 8 personas
[[name:Yuliana]] y [[name:Dayana]] se fueron con [[name:Jorge]] a [[place:Bilbao]]
nota: [[name:María José Torres]] cuenta que [[name:Fredy]] la vendió en [[place:Tijuana]]
hablé con [[name:Juan Carlos]] ayer, quiere volver a [[place:Perú]]
En mayo nos cambiamos a una casa más grande
"""


#: Written after the rules were tuned on the texts above, and measured once before any further
#: change: the held-out figures in README.md come from these.
HELD_EN = r"""
[[name:Grace]] helped me get out, she works at the church
they call her Auntie [[name:Bisi]] but i never knew her real name
my friend [[name:Tabitha]] is still working for them in [[place:Wolverhampton]]
[[name:Daniel Mensah]] told me the job was in a hotel in [[place:Glasgow]]
my mobile: [[phone:+33 (0)6 39 98 11 22]]
you can text my cousin on [[phone:(+234) 0803 555 0199]]
the italian number was [[phone:0039 320 123 4567]]
dob [[date:5.4.97]], arrived [[date:12-03-2018]]
she was born on [[date:March 3rd, 1998]] in a village called [[place:Ugbowo]]
we lived at Flat 2, [[address:18 Queens Road]], [[place:Stoke-on-Trent]]
passport number: [[document:P1234567]]
they kept my nigerian passport [[document:A12345678]] and my brp [[document:ZT1234567]]
IBAN: [[account:DE89 3704 0044 0532 0130 00]]
sort code 12-34-56 account [[account:12345678]]
the card was [[account:4111 1111 1111 1111]]
he messages girls from [[handle:@king_of_london]] on telegram
email [[email:j.smith@mail.example.co.uk]] to reach the recruiter
[[name:kwame]] and [[name:ama]] were also on the boat
the car wash owner, Mr [[name:Demir]], paid us cash
ask for [[name:Ali]] at the kebab shop in [[place:Rochdale]]
i want to go back to [[place:Ghana]] one day
I was 19 and she was 21
there were 3 girls in room 12
in 2015 i came here with nothing
we started at 7:30 and finished after midnight
they took half of my salary, sometimes 1/2 or more
I called 999 but nobody came
Will I get my papers back?
mark my words, they will do it again
the lady said to pray for hope and mercy
"""

HELD_FR = r"""
[[name:Bintou]] m'a aidée à partir, elle habite à [[place:Montreuil]]
on l'appelle Tonton [[name:Jules]], c'est le chef du réseau
mon amie [[name:Rokia]] travaille encore pour eux à [[place:Rouen]]
[[name:Aminata Sow]] dit que le travail était à [[place:Genève]]
appelle-moi au [[phone:06.39.98.22.33]]
mon numéro belge : [[phone:+32 470 12 34 56]]
née le [[date:4/7/2001]] à [[place:Conakry]]
il est né le [[date:15 août 1995]]
on habitait au [[address:3 rue des Écoles]], escalier B, [[address:75005]] [[place:Paris]]
appartement 5, [[address:12 boulevard de la Liberté]], [[place:Lille]]
numéro de passeport [[document:18CV42917]]
récépissé n° [[document:7501234567]] expiré depuis mars
virement sur [[account:FR14 2004 1010 0505 0001 3M02 606]]
elle poste sous le pseudo [[handle:@nina.paris.vip]]
mon ancien mail [[email:aichatou_b@outlook.fr]]
le site [[url:annonces-emploi.fr/aide-menagere]]
[[name:aboubacar]] et [[name:salif]] dormaient dans la cave
la patronne, Madame [[name:Lefèvre]], gardait tout l'argent
on est passés par [[place:Agadez]] puis [[place:Sabha]]
j'ai 23 ans et je suis arrivée en 2017
on était 4 filles dans 2 chambres
ils prenaient la moitié, parfois 200 euros sur 300
j'ai appelé le 115 mais c'était plein
[[name:Marie]] nous a donné à manger quand on avait faim
la [[place:France]] ne m'a pas protégée au début
j'ai travaillé de 8h à 22h sans pause
le loyer était de 450 par mois
"""

HELD_ES = r"""
[[name:Leidy]] me ayudó a escapar, vive en [[place:Getafe]]
le dicen [[name:el Paisa]] y es el que maneja todo
mi amiga [[name:Yurany]] sigue trabajando para ellos en [[place:Zaragoza]]
[[name:Marcela Ospina]] me dijo que el trabajo era en [[place:Palma]]
llámame al [[phone:600 11 22 33]]
su celular colombiano: [[phone:+57 (312) 555-9876]]
nací el [[date:9/11/1999]] en [[place:Pereira]]
fecha de nacimiento [[date:1 de enero de 2000]]
vivíamos en [[address:calle de Alcalá 120]], 4º D, [[place:Madrid]]
el club estaba en la [[address:Av. Libertador 450]]
pasaporte número [[document:PE1234567]]
permiso de residencia [[document:Y-1234567-X]]
me pagaban a la cuenta [[account:ES76 0049 1500 0512 3456 7892]]
su perfil es [[handle:@papi_chulo_bcn]]
escribe a [[email:ayuda.mujeres@correo.org]]
la web [[url:http://modelos-internacionales.com]]
[[name:wilson]] y [[name:andrés]] nos vigilaban de noche
la señora Doña [[name:Pilar]] cobraba la deuda
cruzamos por [[place:Guatemala]] y [[place:México]] hasta la frontera
tengo 20 años y llegué en 2018
éramos 5 chicas en 2 habitaciones
se quedaban la mitad, 300 de cada 600
llamé al 112 y no vino nadie
[[name:Rosa]] nos daba de comer cuando teníamos hambre
[[place:España]] no me protegió al principio
trabajaba de 9 a 21 sin descanso
el alquiler era de 350 al mes
"""


def parse(line: str) -> tuple[str, list[dict[str, object]]]:
    text, spans, pos = [], [], 0
    for m in MARK.finditer(line):
        text.append(line[pos:m.start()])
        start = sum(len(t) for t in text)
        text.append(m.group(2))
        spans.append({"start": start, "end": start + len(m.group(2)), "kind": m.group(1),
                      "text": m.group(2)})
        pos = m.end()
    text.append(line[pos:])
    return "".join(text), spans


def main() -> None:
    out = Path(__file__).with_name("labelled.jsonl")
    rows = []
    blocks = [("dev", "en", EN), ("dev", "fr", FR), ("dev", "es", ES),
              ("heldout", "en", HELD_EN), ("heldout", "fr", HELD_FR), ("heldout", "es", HELD_ES)]
    for split, lang, block in blocks:
        prefix = lang if split == "dev" else f"{lang}-h"
        for i, line in enumerate(ln for ln in block.strip().splitlines() if ln.strip()):
            text, spans = parse(line.strip())
            rows.append({"id": f"{prefix}-{i + 1:03d}", "split": split, "language": lang,
                         "text": text, "spans": spans})
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                   encoding="utf-8")
    print(f"{len(rows)} texts, {sum(len(r['spans']) for r in rows)} spans -> {out}")


if __name__ == "__main__":
    main()
