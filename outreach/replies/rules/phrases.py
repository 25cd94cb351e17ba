"""Text rules: what people (and auto-responders) write, in English, German, French and Spanish.

Matched case-insensitively against the new text only (quoted history cut), with whitespace
collapsed and typographic apostrophes made plain. Each rule is (category, language, pattern); the
classifier tries the categories in ``PRIORITY`` order, so a stronger meaning wins when a reply says
two things: "not interested, please remove me" is an unsubscribe request; "not interested" never
reads as "interested"; "happy to talk, does Tuesday work?" is a meeting request."""

from __future__ import annotations

import re

from ..categories import ReplyCategory as C


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"(?:" + "|".join(alternatives) + r")", re.IGNORECASE)


# Out of office, in the body (auto-replies without a telling subject or header).
OUT_OF_OFFICE = {
    "en": _rx(
        r"\bout of (the )?office\b",
        r"\bI(?:'m| am) (currently )?(away|out|on (annual |parental )?leave|"
        r"on vacation|on holiday|travell?ing)\b",
        r"\bwill be (away|out|on leave|on vacation)\b",
        r"\blimited access to (my )?e-?mail\b",
        r"\bannual leave\b",
    ),
    "de": _rx(
        r"\bnicht im b[üu]ro\b",
        r"\babwesend\b",
        r"\bim urlaub\b",
        r"\babwesenheitsnotiz\b",
        r"\bnicht erreichbar\b",
        r"\bau[sß]er haus\b",
        r"\bin elternzeit\b",
    ),
    "fr": _rx(
        r"\bactuellement absente?\b",
        r"\bje suis absente?\b",
        r"\ben cong[ée]s?\b",
        r"\bhors du bureau\b",
        r"\bserai absente?\b",
        r"\bsans acc[èe]s [àa] (mes|mon) (e-?mails?|courriels?|messagerie)\b",
    ),
    "es": _rx(
        r"\bfuera de la oficina\b",
        r"\bde vacaciones\b",
        r"\bausente\b",
        r"\bestar[ée] fuera\b",
        r"\bsin acceso al correo\b",
    ),
}

# The person has left (an auto-reply or a colleague saying so): the address reaches nobody useful.
LEFT_COMPANY = {
    "en": _rx(
        r"\bno longer (with|at|works? (at|for|with)|employed|part of)\b",
        r"\b(has|have) left (the company|\w+)\b",
        r"\bleft the (company|organi[sz]ation|business)\b",
        r"\bthis (mailbox|address) is no longer (monitored|in use|active)\b",
    ),
    "de": _rx(
        r"\bnicht mehr (bei|im unternehmen|für|in unserem)\b",
        r"\bhat (das unternehmen|uns) verlassen\b",
        r"\bausgeschieden\b",
        r"\bwird nicht mehr (gelesen|abgerufen|genutzt)\b",
    ),
    "fr": _rx(
        r"\bne fait plus partie\b",
        r"\bn'est plus (en poste|chez|dans|avec)\b",
        r"\ba quitt[ée] (la soci[ée]t[ée]|l'entreprise|\w+)\b",
        r"\bne travaille plus\b",
        r"\bn'est plus consult[ée]e?\b",
    ),
    "es": _rx(
        r"\bya no (trabaja|forma parte|est[áa] en)\b",
        r"\bdej[óo] (la empresa|de trabajar)\b",
        r"\bya no se (revisa|utiliza)\b",
    ),
}

RULES: dict[str, dict[str, re.Pattern[str]]] = {
    C.UNSUBSCRIBE_REQUEST: {
        "en": _rx(
            r"\bunsubscribe\b",
            r"\bremove (me|us|my (e-?mail|address|name))\b",
            r"\btake (me|us) off\b",
            r"\bstop (e-?mailing|contacting|sending|writing)\b",
            r"\bdo not (contact|e-?mail|write to) (me|us)\b",
            r"\bdon't (contact|e-?mail|write to) (me|us)\b",
            r"\bopt[- ]?out\b",
            r"\bno (more|further) e-?mails\b",
            r"\bdelete my (data|details|e-?mail)\b",
            r"\boff (your|the) (mailing )?list\b",
        ),
        "de": _rx(
            r"\babmelden\b",
            r"\babbestellen\b",
            r"\baustragen\b",
            r"\b(entfernen|l[öo]schen) sie (mich|meine)\b",
            r"\bmich (aus|von) (ihrem|ihrer|dem|der) .{0,20}(verteiler|liste)\b",
            r"\bkeine (weiteren )?(e-?mails|nachrichten|mails)\b",
            r"\bnicht mehr (kontaktieren|anschreiben)\b",
            r"\bwiderspreche\b",
        ),
        "fr": _rx(
            r"\bd[ée]sinscri",
            r"\bd[ée]sabonne",
            r"\bretirez[- ]moi\b",
            r"\bsupprimez[- ](moi|mon adresse|mes)\b",
            r"\bne (plus|pas) (me )?(contacter|recevoir|m'[ée]crire)\b",
            r"\bne plus [êe]tre contact[ée]e?\b",
            r"\barr[êe]tez de m'[ée]crire\b",
        ),
        "es": _rx(
            r"\b(darme|dadme|denme|den|deme|darnos) de baja\b",
            r"\bbaja de (su|vuestra|la) lista\b",
            r"\b(elim[íi]nenme|b[óo]rrenme|qu[íi]tenme|eliminar mi (correo|direcci[óo]n))\b",
            r"\bno (me )?(env[íi]en|escriban|contacten) m[áa]s\b",
            r"\bdejen de (escribirme|enviarme|contactarme)\b",
        ),
    },
    C.WRONG_PERSON: {
        "en": _rx(
            r"\bnot the (right|best|correct|appropriate) (person|contact)\b",
            r"\bwrong (person|contact)\b",
            r"\b(you should|you'd be better off|better to|please) "
            r"(contact|reach out to|speak (to|with)|talk to|get in touch with)\b(?! (me|us)\b)",
            r"\b(is|would be) (the )?(right|best|better) (person|contact)\b",
            r"\b(handles|looks after|is responsible for|owns) (this|that|these|our|vendor)\b",
            r"\bI(?:'ve| have) (forwarded|passed|cc'?d|copied)\b",
            r"\bnot my (area|department|responsibility)\b",
        ),
        "de": _rx(
            r"\bnicht (der|die) (richtige|passende)n? (ansprechpartner(in)?|person|kontakt)\b",
            r"\bnicht zust[äa]ndig\b",
            r"\bzust[äa]ndig (ist|sind|w[äa]re)\b",
            r"\bwenden sie sich (bitte )?an\b",
            r"\b(habe|hab) (ihre (e-?mail|nachricht|anfrage)|es|das) .{0,30}weitergeleitet\b",
            r"\bweitergeleitet\b",
            r"\brichtige ansprechpartner(in)?\b",
        ),
        "fr": _rx(
            r"\bpas (la|le) bon(ne)? (personne|interlocut(eur|rice)|contact)\b",
            r"\bmieux (vaut|vaudrait) contacter\b",
            r"\bs'occupe de\b",
            r"\bvous pouvez (contacter|[ée]crire [àa])\b(?! moi)",
            r"\bveuillez contacter\b",
            r"\bj'ai transf[ée]r[ée]\b",
            r"\bne (suis|m'occupe) pas (en charge|de)\b",
            r"\ben charge de (ce|cette|ces)\b",
        ),
        "es": _rx(
            r"\bno soy la persona (adecuada|indicada|correcta)\b",
            r"\b(la|el) (persona|contacto) (adecuad|indicad|correct)[oa]\b",
            r"\bse encarga de\b",
            r"\b(contacte|contacten|escriba|escriban|hable) (con|a)\b",
            r"\bhe reenviado\b",
            r"\bno (me )?(encargo|ocupo)\b",
        ),
    },
    C.NOT_INTERESTED: {
        "en": _rx(
            r"\bnot (really |currently |at all )?interested\b",
            r"\bno(t)? interest\b",
            r"\bno,? thanks?( you)?\b",
            r"\bnot (a (good )?fit|for us|right now|at this (time|point|stage))\b",
            r"\bnot looking\b",
            r"\bwe(?:'re| are) (all )?(set|good|covered|happy with)\b",
            r"\bwe already (have|use|work with)\b",
            r"\b(no|don't) need\b",
            r"\b(will|'ll) pass\b",
            r"\bpass on this\b",
            r"\bno budget\b",
            r"\b(not|isn't) a priority\b",
            r"\bnot something we\b",
        ),
        "de": _rx(
            r"\bkein (interesse|bedarf)\b",
            r"\bnicht interessiert\b",
            r"\bnein,? danke\b",
            r"\bbrauchen wir nicht\b",
            r"\bhaben (bereits|schon) (einen|eine|ein)\b",
            r"\bpasst (derzeit |aktuell )?nicht\b",
            r"\bkein thema\b",
        ),
        "fr": _rx(
            r"\bpas int[ée]ress[ée]e?s?\b",
            r"\bnon,? merci\b",
            r"\bpas (de )?besoin\b",
            r"\bpas pour nous\b",
            r"\bavons d[ée]j[àa] (un|une|des)\b",
            r"\bpas d'int[ée]r[êe]t\b",
            r"\bne nous int[ée]resse pas\b",
        ),
        "es": _rx(
            r"\bno (estamos|estoy) interesad[oa]s?\b",
            r"\bno (me|nos) interesa\b",
            r"\bno,? gracias\b",
            r"\bno (lo )?necesitamos\b",
            r"\bya (tenemos|contamos con|trabajamos con)\b",
            r"\bno es (para nosotros|prioridad)\b",
        ),
    },
    C.MEETING_REQUEST: {
        "en": _rx(
            r"\b(schedule|set up|book|arrange|hop on|jump on|have) (a|an|some) "
            r"(quick |short |brief |15[- ]minute |30[- ]minute )?(call|chat|meeting|demo|time)\b",
            r"\bcalendar invite\b",
            r"\bsend (me|us|over) (an? )?(invite|calendar|some times|a few times|your availability)\b",
            r"\b(does|would|how about|what about|are you (free|available)( on)?) "
            r"(monday|tuesday|wednesday|thursday|friday|tomorrow|next week)\b",
            r"\b(free|available) (on |for a call )?"
            r"(monday|tuesday|wednesday|thursday|friday|tomorrow|next week)\b",
            r"\bcalendly\.com\b",
            r"\bmy calendar\b",
            r"\bgrab (a|some) time\b",
            r"\blet'?s (talk|chat|meet|speak)\b",
            r"\b(let me know|send me) (when|what time)s? (you are|you're|works)\b",
            r"\b(could|can|shall) we (talk|chat|meet|speak|have a (quick )?(call|chat))\b",
            r"\b(talk|chat|meet|speak|call) (on|this|next) "
            r"(monday|tuesday|wednesday|thursday|friday|tomorrow|week)\b",
        ),
        "de": _rx(
            r"\b(termin|telefonat|gespr[äa]ch|call|meeting)\b.{0,40}\b(vereinbaren|ausmachen|machen|abstimmen|finden|vorschlagen)\b",
            r"\bpasst (es )?ihnen (am )?"
            r"(montag|dienstag|mittwoch|donnerstag|freitag|morgen|n[äa]chste woche)\b",
            r"\b(am|n[äa]chsten) (montag|dienstag|mittwoch|donnerstag|freitag) um\b",
            r"\bkurz telefonieren\b",
            r"\bterminvorschl[äa]ge?\b",
        ),
        "fr": _rx(
            r"\b(fixer|fixons|caler|calons|planifier|planifions|organiser|organisons|prendre) (un )?"
            r"(rendez-vous|rdv|appel|cr[ée]neau|r[ée]union)\b",
            r"\bdisponible (lundi|mardi|mercredi|jeudi|vendredi|demain|la semaine prochaine)\b",
            r"\b[ée]changer par t[ée]l[ée]phone\b",
            r"\bun (court )?appel\b.{0,40}\b(lundi|mardi|mercredi|jeudi|vendredi|semaine)\b",
            r"\bquelques cr[ée]neaux\b",
        ),
        "es": _rx(
            r"\b(agendar|programar|organizar|tener|concertar) (una )?"
            r"(llamada|reuni[óo]n|cita|videollamada)\b",
            r"\b(le|te|les) (va|viene) bien (el )?(lunes|martes|mi[ée]rcoles|jueves|viernes|ma[ñn]ana)\b",
            r"\bhablamos (el )?(lunes|martes|mi[ée]rcoles|jueves|viernes|ma[ñn]ana|la pr[óo]xima semana)\b",
            r"\bdisponibilidad\b",
        ),
    },
    C.INTERESTED: {
        "en": _rx(
            r"(?<!not )(?<!not really )\binterested\b",
            r"\binteresting\b",
            r"\bsounds (good|great|interesting|promising|useful|relevant)\b",
            r"\btell me more\b",
            r"\b(I'?d|we'?d) (like|love) to (learn|hear|know|see) more\b",
            r"\bsend (me|us|over) (more )?(info|information|details|the deck|a proposal)\b",
            r"\byes,? please\b",
            r"\bkeen to\b",
            r"\bcount (me|us) in\b",
            r"\bopen to (it|this|exploring|learning)\b",
            r"\bworth (exploring|a look|a (quick )?(chat|call|conversation))\b",
        ),
        "de": _rx(
            r"(?<!nicht )\binteressiert\b",
            r"\bklingt (interessant|gut|spannend)\b",
            r"\bgerne? mehr\b",
            r"\bschicken sie (mir )?(gerne )?(mehr|weitere|unterlagen|infos?)\b",
            r"\bhabe (gro[sß]es )?interesse\b",
            r"\bbitte (mehr )?(infos|informationen|unterlagen)\b",
        ),
        "fr": _rx(
            r"(?<!pas )\bint[ée]ress[ée]e?s?\b",
            r"\b[çc]a m'int[ée]resse\b",
            r"\bvolontiers\b",
            r"\ben savoir plus\b",
            r"\bsemble int[ée]ressant\b",
            r"\benvoyez[- ]moi (plus d'|des )?(informations|infos|d[ée]tails|documentation)\b",
        ),
        "es": _rx(
            r"(?<!no )\b(me|nos) interesa\b",
            r"\binteresad[oa]s?\b",
            r"\bsuena (bien|interesante)\b",
            r"\bm[áa]s informaci[óo]n\b",
            r"\b(env[íi]e(me|nos)|m[áa]nde(me|nos)) (m[áa]s )?(informaci[óo]n|detalles|info)\b",
        ),
    },
    C.QUESTION: {
        "en": _rx(
            r"\b(how (much|many|long|does|do|would|is)|what (is|are|does|do|would)|which|who (else|are)|"
            r"where|when|why|do you|does it|can you|could you|can it|is (it|there)|are (you|there)|"
            r"will it)\b[^?\n]{0,160}\?",
            r"\b(pricing|price|cost|quote)\b",
        ),
        "de": _rx(
            r"\b(wie (viel|teuer|lange|funktioniert)|was (kostet|ist|sind|genau)|welche|k[öo]nnen sie|"
            r"gibt es|haben sie|ist (das|es)|wer|wo|wann|warum)\b[^?\n]{0,160}\?",
            r"\b(preis|preise|kosten|angebot)\b",
        ),
        "fr": _rx(
            r"\b(combien|quel(le)?s?|comment|pourquoi|o[ùu]|quand|est-ce que|pouvez-vous|avez-vous|"
            r"proposez-vous|c'est)\b[^?\n]{0,160}\?",
            r"\b(tarif|tarifs|prix|co[ûu]t|devis)\b",
        ),
        "es": _rx(
            r"¿[^?\n]{2,160}\?",
            r"\b(cu[áa]nto|c[óo]mo|qu[ée]|cu[áa]l|d[óo]nde|cu[áa]ndo|pueden|tienen|ofrecen)\b[^?\n]{0,160}\?",
            r"\b(precio|precios|coste|costo|tarifa|presupuesto)\b",
        ),
    },
}
PRIORITY = (
    C.UNSUBSCRIBE_REQUEST,
    C.WRONG_PERSON,
    C.NOT_INTERESTED,
    C.MEETING_REQUEST,
    C.INTERESTED,
    C.QUESTION,
)


def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", (text or "").replace("\u2019", "'").replace("\u2018", "'")).strip()


def first_match(patterns: dict[str, re.Pattern[str]], text: str) -> tuple[str, str] | None:
    """(language, matched words) of the first language whose pattern matches, else None."""
    for language, pattern in patterns.items():
        found = pattern.search(text)
        if found:
            return language, found.group(0)
    return None
