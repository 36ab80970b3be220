"""Every word list the system reads or writes English with, once, named for what it lists. Data only.

A rule that needs a list imports it from here; a new list starts here, next to the lists it may overlap.
"""

from __future__ import annotations

USER = "the user"  # the subject of what the user says about themselves


# --- what sentences say (intake and extraction) ----------------------------------------------------------

FIRST_PERSON = {"i", "me", "we", "us", "myself", "ourselves"}

FIRST_POSSESSIVE = {"my", "our", "mine", "ours"}

WH_WORDS = {"who", "what", "where", "when", "which", "why", "how", "whose", "whom"}

QUESTION_AUX = {"do", "does", "did", "is", "are", "was", "were", "can", "could", "will", "would", "should", "have",
                "has", "had", "may", "shall", "am"}

HYPOTHETICAL_MODALS = {"would", "could", "might", "may", "should", "shall", "must"}

HYPOTHETICAL_MARKS = {"if", "unless", "whether", "though", "although"}

NON_FACTUAL_VERBS = {"think", "guess", "hope", "wish", "suppose", "believe", "wonder", "doubt", "imagine", "feel",
                     "want", "plan", "consider", "seem", "bet", "mean", "need", "try", "miss", "let", "sound", "look"}

OPINION_VERBS = {"think", "guess", "believe", "suppose", "bet", "doubt", "wonder", "imagine", "reckon", "assume"}

FEELING_VERBS = {"miss", "feel", "wish", "hope", "want", "regret", "dread", "fear"}

CONTACT_VERBS = {"call", "dial", "text", "ring", "phone", "reach", "contact", "email", "message", "write"}

# greetings, thanks, laughter, farewells, acknowledgements and fillers: a sentence made only of these says nothing
GREETINGS = {"hi", "hello", "hey", "thanks", "thank", "thx", "ty", "bye", "goodbye", "ok", "okay", "yes", "yeah", "yep",
             "no", "nope", "sure", "lol", "haha", "hah", "hahaha", "ha", "wow", "cool", "great", "nice", "awesome",
             "oh", "ah", "hmm", "um", "uh", "well", "good", "morning", "night", "evening", "afternoon", "see", "later",
             "soon", "tomorrow", "tonight", "then", "welcome", "cheers", "congrats", "congratulations", "sorry",
             "please", "you", "so", "too", "very", "really", "a", "lot", "much", "for", "again", "now", "right",
             "exactly", "totally", "indeed", "anyway", "got", "get", "it", "sounds", "sound", "worries", "worry",
             "thing", "np", "bye-bye", "take", "care", "all", "the", "best", "nite", "gn", "gm", "ugh", "meh", "phew",
             "hooray", "yay", "alright", "fine", "noted", "understood", "perfect", "brilliant", "lovely"}

PASSING_STATES = {"tired", "exhausted", "sleepy", "hungry", "thirsty", "bored", "busy", "sick", "stressed", "cold",
                  "hot", "late", "sore", "grumpy", "cranky", "drained", "beat", "wiped", "knackered", "fine", "good",
                  "great", "okay", "ok", "alright", "happy", "sad", "excited", "nervous", "annoyed", "upset", "angry",
                  "glad", "thrilled", "relieved", "worried", "anxious", "proud"}

EMOTIONS = PASSING_STATES | {"grateful", "thankful", "jealous", "scared", "frightened", "terrified", "keen", "curious",
                             "disappointed", "embarrassed", "ashamed", "confused", "impressed", "obsessed", "crazy",
                             "mad", "sure", "certain", "aware", "sick", "fond", "sorry"}

OPINIONS = {"ugly", "cute", "beautiful", "pretty", "boring", "nice", "fun", "funny", "great", "awful", "terrible",
            "amazing", "lovely", "horrible", "weird", "strange", "cool", "good", "bad", "best", "worst", "fine",
            "perfect", "hard", "easy", "expensive", "cheap", "delicious", "gorgeous", "stunning", "tasty", "hilarious",
            "useless", "brilliant", "rubbish", "annoying", "terrifying", "mad", "crazy", "lucky"}

EVERYONE = {"everyone", "everybody", "anyone", "anybody", "someone", "somebody", "nobody", "no-one"}

HEDGES = {"maybe", "perhaps", "possibly", "probably", "hopefully", "supposedly", "apparently"}

TIME_NOUNS = {"today", "tonight", "yesterday", "tomorrow", "now", "morning", "evening", "week", "month", "year",
              "weekend", "summer", "winter", "spring", "autumn", "fall", "monday", "tuesday", "wednesday", "thursday",
              "friday", "saturday", "sunday", "weekday", "weekends", "day", "night", "ago", "decade", "afternoon",
              "season", "holiday", "holidays", "christmas", "easter"}

JOB_SUFFIXES = ("er", "or", "ist", "ian", "ant", "ent", "eer", "man", "woman", "smith", "wright")

NOT_JOBS = {"brother", "sister", "mother", "father", "daughter", "partner", "member", "neighbour", "neighbor", "owner",
            "fan", "lover", "player", "winner", "user", "customer", "student", "friend", "person", "parent",
            "grandparent", "cousin", "uncle", "aunt", "other", "number", "teenager", "beginner", "vegetarian", "vegan",
            "introvert", "extrovert", "centre", "center", "quarter", "minor", "major"}

JOBS = {"head", "director", "chief", "officer", "nurse", "doctor", "chef", "pilot", "dentist", "surgeon", "nanny",
        "clerk", "vet", "mechanic", "architect", "plumber", "electrician", "barista", "carpenter", "cook", "judge",
        "midwife", "paramedic", "pharmacist", "accountant", "attorney", "consultant", "engineer", "scientist",
        "librarian", "tutor", "coach", "therapist", "firefighter", "journalist", "cashier", "chemist", "florist",
        "butcher", "baker", "potter", "glassblower", "curator", "analyst", "developer", "designer", "programmer",
        "artist", "musician", "photographer", "translator", "professor", "lecturer", "researcher", "teacher", "lawyer"}

# what people say -> one relation, so that a later statement supersedes an earlier one
CANONICAL = {"move to": "live in", "relocate to": "live in", "move into": "live in", "settle in": "live in",
             "now live in": "live in", "work for": "work at", "be live in": "live in", "stay in": "live in",
             "be base in": "live in", "be based in": "live in", "be employ at": "work at", "be employ by": "work at",
             "be employed at": "work at", "be employed by": "work at", "move in": "live in"}

# a relation that ends another with the same object: "I left Brisk Dental" ends "works at Brisk Dental"
ENDS = {"leave": ("work at",), "quit": ("work at",), "move out of": ("live in", "live on"),
        "move from": ("live in", "live on"), "sell": ("car", "drive", "have", "own")}

# changes said in passing (language.changes): a stored relation -> the relations a new value of it may be said
# with ("I quit Vantry Labs and joined Corbel Rail": "join" names a workplace; "... and met Tom" names none)
REPLACED_BY = {
    "work at": {"join", "start at", "start with", "be at", "work for", "work at"},
    "work for": {"join", "start at", "start with", "be at", "work for", "work at"},
    "live in": {"live in", "be in", "rent in", "stay in", "settle in"},
    "live on": {"live on", "be on", "live in"},
    "work as": {"be", "work as", "become", "retrain as", "train as"},
    "car": {"buy", "get", "drive", "have"},
    "drive": {"buy", "get", "drive", "have"},
    "bank": {"bank with", "be with", "move account to", "switch to"},
}
# a stored person (partner, doctor, dentist ...) is replaced by someone the speaker now sees, is with, dates
PERSON_REPLACED_BY = {"see", "be with", "be", "date", "register with", "switch to"}
# whom "I'm with X now" names: the relation of a partner
PARTNERS = {"partner", "wife", "husband", "boyfriend", "girlfriend", "fiance", "fiancee", "spouse"}
NOW = {"now", "nowadays", "currently", "presently"}  # the present said against the past
NOW_PHRASES = ("these days", "at the moment", "for now", "any more", "anymore", "from now on")
CHANGING = {"switch", "change", "swap", "replace"}  # "switched doctors": the relation that changes
OVER = {"over", "gone", "finished", "done", "ended"}  # "the barista job is over", "the Halvik's gone"

# forgetting: what a request calls a fact -> the words a statement of it says ("my old address" is where I lived,
# "I used to live on Corran Street"); past forms a wish uses, which the tagger may leave unlemmatised ("I'd rather
# you forgot ...", tagged a present)
CALLED = {"address": {"live"}, "home": {"live"}, "flat": {"live"}, "house": {"live"}, "job": {"work"},
          "employer": {"work"}, "workplace": {"work"}, "work": {"job"}, "salary": {"earn", "paid", "pay"},
          "pay": {"earn", "paid", "salary"}, "birthday": {"born"}, "age": {"old"}, "number": {"phone"},
          "phone": {"number"}, "mobile": {"number", "phone"}}
UNREAL_PAST = {"forgot": "forget", "deleted": "delete", "erased": "erase", "removed": "remove", "wiped": "wipe",
               "dropped": "drop", "kept": "keep", "held": "hold", "stored": "store"}

# what "a new job at X" is: work at X ("I started a new job at Corbel Rail", "she took a post at Ostwin")
JOB_NOUNS = {"job", "position", "role", "post", "placement", "internship", "apprenticeship", "contract"}
TAKING_UP = {"start", "begin", "get", "take", "land", "accept", "have", "secure", "find"}

NAMING_VERBS = {"call", "name"}

# "Mum", "Dad", "Gran" said as names: the speaker's own ("Dad, Fitz, retired" -> the user's dad is Fitz)
KIN_NAMES = {"mum", "mom", "mummy", "mommy", "dad", "daddy", "gran", "granny", "grandma", "grandpa", "grandad",
             "granddad", "nan", "nana", "nanna", "papa", "mama"}

# objects that are parts of idioms, not things: "by the way", "a lot", "of course", "at all", "at least"
LOOKS = {"grey", "gray", "black", "white", "brown", "ginger", "red", "blue", "green", "yellow", "tabby", "scruffy",
         "fluffy", "tiny", "sweet", "lovely", "gorgeous", "adorable", "cute", "beautiful", "shiny", "rusty", "battered"}

CHILDREN = {"girl": "daughter", "little girl": "daughter", "baby girl": "daughter", "boy": "son", "little boy": "son",
            "baby boy": "son"}  # "I have a little girl, Pia"

CURRENT = {"new", "current", "present", "latest"}  # "my new boss" is my boss now (and supersedes the old one)

IDIOM_OBJECTS = {"way", "lot", "course", "all", "least", "most", "sudden", "end", "general", "fact", "case"}

POINTING = {"it", "him", "her", "them", "this", "that", "these", "those", "himself", "herself", "itself"}

# "Tell me the phone number of Ada", "Give me Ana's number, please": requests put to the agent, asked not stated
# verbs whose clause a yes/no question takes as said ("Did I mention my dentist is Oriel Tansby?", "Have I told you
# I moved?", "Did you know my sister lives in Oslo?"): the asker states the clause while asking
TELLING_VERBS = {"mention", "tell", "know", "hear", "realise", "realize"}  # not "say": "Did I say I would?" asks

REQUEST_VERBS = {"tell", "give", "remind", "show", "list", "find", "explain", "describe", "recall", "name", "repeat",
                 "say", "read", "look"}

LEANING = {"he", "she", "it", "they", "him", "her", "them", "his", "hers", "its", "their", "theirs", "this", "that",
           "these", "those", "there"}

AIMED_AT = {"look", "laugh", "stare", "point", "aim", "shout", "yell", "smile", "wave", "glance", "be", "get"}

# "a guy on my team" is my teammate: the role of a person in a group of the speaker's
MEMBERS = {"team": "teammate", "squad": "teammate", "crew": "crewmate", "department": "colleague",
           "office": "colleague", "class": "classmate", "course": "classmate"}

SOMEONE = {"guy", "man", "woman", "girl", "boy", "lady", "bloke", "chap", "lad", "person", "fellow", "member"}


# --- writing questions (phrasing) ------------------------------------------------------------------------

PREPOSITIONS = {"in", "at", "to", "from", "for", "as", "with", "on", "by", "of", "about", "into", "near", "after",
                "under", "over", "like", "up", "out", "off", "down", "around", "through"}

PARTICLES = {"up", "out", "off", "down", "away", "back", "over", "around"}

PLACE_PREPS = {"in", "at", "to", "into", "near", "on"}  # "Where did I grow up?" drops them; "from" stays

IRREGULAR_PAST = {"be": "was", "have": "had", "go": "went", "grow": "grew", "get": "got", "make": "made",
                  "take": "took", "buy": "bought", "meet": "met", "teach": "taught", "lose": "lost", "find": "found",
                  "leave": "left", "begin": "began", "become": "became", "ride": "rode", "run": "ran", "swim": "swam",
                  "sing": "sang", "drive": "drove", "write": "wrote", "read": "read", "win": "won", "give": "gave",
                  "come": "came", "know": "knew", "fly": "flew", "sell": "sold", "tell": "told", "bring": "brought",
                  "think": "thought", "build": "built", "spend": "spent"}

BASE_FORMS = {"is": "be", "are": "be", "was": "be", "has": "have", "does": "do", "goes": "go"}

POSSESSED_HEADS = {"supervisor", "boss", "manager", "colleague", "friend", "teacher", "coach", "doctor", "dentist",
                   "neighbour", "neighbor", "favourite", "partner", "office", "team", "mentor", "landlord", "phone",
                   "email", "birthday", "address", "age", "name", "job", "best", "older", "younger", "twin"}

COMMON_VERBS = {"live", "work", "drive", "play", "have", "own", "attend", "speak", "love", "like", "enjoy", "ski",
                "grow", "study", "teach", "run", "volunteer", "visit", "go", "travel", "collect", "cook", "bake",
                "paint", "write", "read", "watch", "swim", "sing", "coach", "manage", "lead", "join", "adopt", "buy",
                "use", "keep", "sell", "support", "prefer", "take", "make", "know", "marry", "start", "open", "found",
                "build", "learn", "practise", "practice", "ride", "hike", "climb", "rent", "lose", "get", "fly", "sail",
                "hate", "eat", "drink", "wear", "raise", "meet", "move", "stay", "spend", "sign", "finish", "win",
                "earn", "miss", "need", "want", "plan", "organise", "organize", "host", "do"}

PEOPLE = {"sister", "brother", "mother", "father", "mom", "mum", "dad", "wife", "husband", "partner", "son",
          "daughter", "uncle", "aunt", "niece", "nephew", "grandmother", "grandfather", "grandma", "grandpa", "gran",
          "cousin", "friend", "boss", "manager", "supervisor", "colleague", "coworker", "teammate", "classmate",
          "crewmate", "neighbour", "neighbor", "dentist", "doctor", "landlord", "flatmate", "roommate", "boyfriend",
          "girlfriend", "fiance", "fiancee",
          "teacher", "coach", "mentor", "lead", "plumber", "babysitter", "stepdad", "stepmum", "stepmom", "twin",
          "child", "kid", "baby", "youngest", "eldest", "oldest", "vet", "therapist", "lawyer", "accountant"
          } | KIN_NAMES

# the kinds of place a name may end in, naming what it is: "Hobsfold Library", "Vennick Valley", "Ossenby Road"
NAMED_PLACES = {"library", "school", "academy", "university", "college", "hospital", "clinic", "museum", "gallery",
                "theatre", "theater", "cinema", "church", "cathedral", "chapel", "abbey", "hotel", "inn", "cafe",
                "restaurant", "bakery", "gym", "park", "gardens", "station", "airport", "harbour", "harbor", "bridge",
                "valley", "lake", "loch", "river", "mountain", "hill", "island", "bay", "beach", "forest", "wood",
                "reservoir", "street", "road", "lane", "avenue", "square", "market", "stadium", "zoo", "farm", "studio",
                "club", "choir", "orchestra", "surgery", "pharmacy", "prison", "castle", "pier", "marina"}

# how one gets somewhere, said by the verb of going there ("I cycle to work" -> "How do I get to work?" -> cycling)
TRAVEL = {"cycle": "cycling", "bike": "cycling", "walk": "walking", "drive": "driving", "run": "running",
          "jog": "jogging", "swim": "swimming", "fly": "flying", "sail": "sailing", "skate": "skating",
          "commute": "commuting"}

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
          "December")

SMALL_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "a couple of": 2, "a few": 3}

STATES = {"be", "have", "own", "keep", "know", "like", "love", "prefer", "hate"}  # no "when": not events

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

FIRST_PERSON_AS_NAMED = {"i": "{s}", "me": "{s}", "my": "{s}'s", "mine": "{s}'s", "myself": "{s}", "we": "{s}",
                         "us": "{s}", "our": "{s}'s"}

# the verb of "I" or "we" said of one other person: "I'm" -> "Jon is", "we've" -> "Jon has", "we were" -> "Jon was"
THIRD_PERSON_AUX = {"am": "is", "'m": " is", "are": "is", "'re": " is", "were": "was", "have": "has",
                    "'ve": " has"}

PAST_WORDS = set(IRREGULAR_PAST.values()) | {"was", "were", "had", "did"}

TIME_GLUE = {"of", "the", "every", "on", "in", "at", "since", "each", "early", "late", "mid"}


# --- what questions ask for (answer kinds) ---------------------------------------------------------------

FILLER_WORDS = {"the", "a", "an", "is", "are", "was", "were", "my", "your", "our", "i", "you", "we", "it", "s", "of",
                "and", "user", "said"}

NUMBER_WORDS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "thirty",
                "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand", "dozen", "couple",
                "few", "several", "once", "twice", "half"}

# words that let a question take a time for its answer ("What's my birthday?" -> "9 March")
TIME_WORDS = TIME_NOUNS | {"when", "time", "date", "birthday", "anniversary", "since", "long", "often", "age", "old",
                           "until", "deadline", "hour", "minute", "schedule", "start", "begin"}

# "Which town ...?", "What is the capital of Norway?": a place, however the question is worded
PLACE_NOUNS = {"city", "town", "village", "country", "capital", "county", "island", "region", "suburb", "neighbourhood",
               "neighborhood", "street", "province", "continent", "district", "hometown"}


# --- reading answers (matching) --------------------------------------------------------------------------

ARTICLES = frozenset({"a", "an", "the"})

# what may follow "or" without offering another answer: "Bergen, or so I think", "Bergen or thereabouts"
HEDGE_TAILS = frozenset({"thereabouts", "whatever", "nearby", "abouts", "near"})
MAYBE = frozenset({"maybe", "perhaps", "possibly", "probably", "even"})  # "Bergen, or maybe Oslo": Oslo is offered

# folded forms (apostrophes dropped): "isn't" -> "isnt"
NEGATIONS = frozenset({"not", "no", "never", "isnt", "doesnt", "dont", "didnt", "wasnt", "werent", "arent",
                       "aint", "cant", "cannot", "wont", "nor", "neither", "without", "none", "nobody"})


# --- naming topics ---------------------------------------------------------------------------------------

TOPIC_STOPWORDS = {"a", "an", "the", "is", "are", "was", "my", "i", "in", "at", "of", "to", "and", "has", "have", "his",
                   "her", "their", "s", "lives", "works", "on", "for", "with", "as", "by"}

# What the user says about themselves, grouped into topics so that one adapter holds one area of their life;
# facts about anyone else go to the nearest topic.
FAMILY_WORDS = ("sister", "brother", "mother", "father", "wife", "husband", "partner", "son", "daughter", "uncle",
                "aunt", "niece", "nephew", "grandmother", "grandfather", "grandma", "grandpa", "cousin", "dog", "cat",
                "pet", "parrot", "rabbit", "hamster", "horse", "fiance", "fiancee", "girlfriend", "boyfriend", "child",
                "kid", "mom", "dad", "stepmother", "stepfather", "twin", "baby", "mum", "mam", "mummy", "mommy",
                "daddy", "gran", "granny", "nan", "nana", "nanna", "grandad", "granddad", "grandmom", "grandmum",
                "stepmum", "stepmom", "stepdad", "auntie", "grandson", "granddaughter", "grandchild", "stepson",
                "stepdaughter")

WORK_WORDS = ("work at", "work as", "works at", "works as", "boss", "manager", "supervisor", "colleague", "coworker",
              "co-worker", "team lead", "mentor", "employer", "client", "intern", "assistant", "office")

# words of a question that carry grammar or fill, not what is asked: an echo of a trained question may add or drop
# them ("And what is my job, then?" is "What is my job?"; evals.disjoint)
QUESTION_FILLERS = frozenset({"do", "does", "did", "is", "are", "am", "was", "were", "be", "been", "the", "a", "an",
                              "of", "it", "that", "to", "and", "so", "then", "again", "well", "just", "actually"})
