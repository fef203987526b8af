package demo

// Word lists for invented names. Order matters: the generator draws from them by index,
// so appending changes the demo data of every city (which is fine; ids stay stable).

var childFirstNames = []string{
	"Emma", "Mia", "Sophia", "Hannah", "Emilia", "Lina", "Mila", "Ella", "Lea", "Clara",
	"Marie", "Leni", "Frieda", "Ida", "Lotta", "Mathilda", "Johanna", "Luisa", "Anna", "Lia",
	"Amelie", "Charlotte", "Nele", "Paula", "Greta", "Helena", "Maja", "Ronja", "Zoe", "Alina",
	"Elif", "Aylin", "Lara", "Sofia", "Emily", "Juna", "Thea", "Malia", "Romy", "Pia",
	"Noah", "Leon", "Paul", "Ben", "Finn", "Elias", "Felix", "Henry", "Emil", "Louis",
	"Jonas", "Luca", "Theo", "Matteo", "Anton", "Oskar", "Jakob", "Karl", "Moritz", "Maximilian",
	"Lukas", "Niklas", "Mats", "Ole", "Linus", "Julian", "David", "Leo", "Milan", "Mohammed",
	"Yusuf", "Emir", "Aaron", "Samuel", "Levi", "Jannik", "Tim", "Fritz", "Johann", "Tom",
}

var adultFirstNames = []string{
	"Sabine", "Anja", "Katrin", "Nicole", "Stefanie", "Petra", "Tanja", "Claudia", "Melanie", "Sandra",
	"Julia", "Christina", "Kerstin", "Manuela", "Jana", "Ines", "Silke", "Birgit", "Daniela", "Susanne",
	"Yvonne", "Jessica", "Nadine", "Kathrin", "Martina", "Andrea", "Monika", "Heike", "Simone", "Bianca",
	"Ayşe", "Olga", "Thomas", "Michael", "Markus",
}

var lastNames = []string{
	"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
	"Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
	"Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier",
	"Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber",
	"Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert",
	"Vogel", "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz",
	"Baumann", "Franke", "Albrecht", "Schuster", "Simon", "Ludwig", "Böhm", "Winter", "Kraus", "Martin",
	"Schumacher", "Krämer", "Vogt", "Stein", "Jäger", "Otto", "Sommer", "Groß", "Seidel", "Heinrich",
	"Brandt", "Haas", "Schreiber", "Graf", "Schulte", "Dietrich", "Ziegler", "Kuhn", "Pohl", "Engel",
	"Horn", "Busch", "Bergmann", "Voigt", "Sauer", "Arnold", "Pfeiffer", "Yılmaz", "Kaya", "Demir",
	"Şahin", "Çelik", "Nowak", "Kowalski", "Popescu", "Iwanow", "Petrović", "Haddad", "Rahimi", "Nguyen",
}

// streetStems combine with "straße" or "weg"; streetNames are used as they are.
var streetStems = []string{
	"Linden", "Birken", "Eichen", "Ahorn", "Kastanien", "Buchen", "Erlen", "Ulmen", "Weiden", "Tannen",
	"Rosen", "Tulpen", "Nelken", "Flieder", "Holunder", "Ginster", "Amsel", "Drossel", "Finken", "Lerchen",
	"Meisen", "Schwalben", "Goethe", "Schiller", "Lessing", "Herder", "Fontane", "Heine", "Uhland", "Mozart",
	"Beethoven", "Händel", "Garten", "Wiesen", "Feld", "Mühlen", "Berg", "Wald", "Sonnen", "Brunnen",
	"Schul", "Kirch", "Post", "Gutenberg", "Humboldt", "Kant", "Brahms", "Schubert", "Kepler", "Stifter",
}

var streetNames = []string{
	"Hauptstraße", "Bahnhofstraße", "Dorfstraße", "Ringstraße", "Parkstraße", "Mittelstraße", "Querstraße",
	"Lange Straße", "Kurze Straße", "Neue Straße", "Grüner Weg", "Am Park", "Am Bach", "An der Kirche",
	"Am Sportplatz", "Am Stadtpark", "Im Winkel", "Am Lindenhof", "An der Mühle", "Kastanienallee",
	"Friedrich-Ebert-Straße", "Albert-Schweitzer-Straße", "Käthe-Kollwitz-Straße", "Geschwister-Scholl-Straße",
	"Robert-Koch-Straße", "Bertha-von-Suttner-Straße", "Wilhelm-Busch-Straße", "Clara-Zetkin-Straße",
	"Sophie-Scholl-Weg", "Astrid-Lindgren-Weg", "Eichendorffstraße", "Am Weinberg", "Zur Aue", "Talstraße",
	"Am Anger", "Hirtenweg", "Schäferweg", "Am Teich", "Wiesengrund", "Sonnenhang",
}

// nicknames are the invented names of Kitas.
var nicknames = []string{
	"Sonnenblume", "Regenbogen", "Pusteblume", "Sonnenschein", "Kunterbunt", "Spatzennest", "Zwergenland",
	"Wirbelwind", "Löwenzahn", "Schatzkiste", "Sternschnuppe", "Kleeblatt", "Glühwürmchen", "Schneckenhaus",
	"Märchenland", "Traumzauberbaum", "Rappelkiste", "Purzelbaum", "Wolkenschloss", "Abenteuerland",
	"Buddelkiste", "Farbklecks", "Kinderinsel", "Sausewind", "Seepferdchen", "Bärenhöhle", "Krümelkiste",
	"Sonnenkäfer", "Apfelbäumchen", "Kastanienhaus", "Birkenwäldchen", "Haselnuss", "Weidenkätzchen",
	"Hummelnest", "Schwalbennest", "Storchennest", "Zaubergarten", "Wunderland", "Kinderburg", "Sonnenhügel",
	"Wiesenzwerge", "Entdeckerhaus", "Spielkiste", "Flohkiste", "Knirpsenland", "Gänseblümchen",
	"Marienkäfer", "Tausendfüßler", "Windrad", "Leuchtturm", "Weltentdecker", "Blauer Elefant", "Grashüpfer",
	"Sternenhimmel", "Mondschein", "Rasselbande", "Wichtelhaus", "Pfiffikus", "Holzwurm", "Kieselstein",
	"Apfelblüte", "Frechdachs", "Sonnenstrahl", "Springmaus", "Kinderarche", "Lindenblüte", "Wolkenreich",
	"Bunte Steine", "Kleine Hände", "Fliegenpilz", "Pfützenspringer", "Sonnenuhr", "Am Mühlbach",
	"Haus der kleinen Füße", "Kinderhafen", "Zwergenburg", "Villa Sonnenschein", "Drachenburg",
}

// hortNicknames suit schoolchildren better.
var hortNicknames = []string{
	"Entdeckerland", "Forscherhaus", "Abenteuerhaus", "Piratennest", "Kompass", "Weltenbummler",
	"Baumhaus", "Sternwarte", "Schlaufüchse", "Freizeithaus", "Rakete", "Jolle", "Kleine Strolche",
	"Lernwerkstatt", "Pfadfinderhaus", "Funkenflug",
}

var saints = []string{
	"Johannis", "Markus", "Lukas", "Matthäus", "Petrus", "Paulus", "Michael", "Nikolai", "Martin",
	"Elisabeth", "Marien", "Thomas", "Jakobus", "Andreas", "Bonifatius", "Franziskus", "Christophorus",
	"Hedwig", "Josef", "Antonius", "Barbara", "Georg", "Laurentius", "Ulrich", "Stephanus", "Benedikt",
	"Katharina", "Anna", "Clemens", "Theresia",
}

// evNames are names Protestant Kitas often choose instead of a saint.
var evNames = []string{"Arche Noah", "Senfkorn", "Regenbogen", "Himmelszelt", "Kirchenmäuse", "Lebensbaum", "Schatzkiste", "Sonnenstrahl"}

var forestAnimals = []string{"Eichhörnchen", "Waldmäuse", "Igel", "Füchse", "Dachse", "Specht", "Zaunkönig", "Wurzelkinder", "Waldwichtel"}

var tagespflegeNicknames = []string{
	"Zwergenstube", "Krabbelkiste", "Kuschelnest", "Wichtelstube", "Mäusenest", "Bärchenhaus",
	"Kinderstübchen", "Purzelzwerge", "Kleine Strolche", "Krümelnest", "Spatzenhaus", "Knuddelbande",
	"Zwergenhöhle", "Murmelkiste", "Wiegenland", "Sonnenkinder", "Kleine Füße", "Wolkenbett",
	"Pusteblümchen", "Marienkäferchen", "Igelhöhle", "Hasenbau", "Schmetterlingsnest", "Kükenstall",
	"Sternchen", "Tapsefüße", "Kirschkerne", "Zauberwiese", "Wuselbande", "Nestwärme",
}

var groupNames = map[string][]string{
	bandKrippe:       {"Mäuse", "Käfer", "Spatzen", "Küken", "Schnecken", "Igel", "Zwerge", "Bienchen", "Marienkäfer", "Entchen"},
	bandKindergarten: {"Bären", "Füchse", "Eulen", "Löwen", "Giraffen", "Delfine", "Frösche", "Dachse", "Pinguine", "Elefanten", "Schmetterlinge", "Raben"},
	bandHort:         {"Entdecker", "Forscher", "Abenteurer", "Baumeister", "Weltenbummler", "Sternengucker", "Piraten", "Detektive"},
}

// companyNicknames name Betriebskitas.
var companyNicknames = []string{"Kleine Kollegen", "Firmenzwerge", "Werkswichtel", "Bürospatzen"}
