/*
 * gen.c - a seeded, deterministic generator of realistic demo / benchmark data.
 *
 *   gen --db PATH [--seed N] [--territories N | --territory NAME[,NAME...]]
 *       [--customers N] [--contacts N] [--visits N] [--plans N]
 *       [--date YYYY-MM-DD] [--json] [--quiet]
 *
 * What it writes (through the public API in fieldsync.h only, exactly as an
 * embedding app would):
 *  - Territories "around real cities": a built-in table of 20 cities with their
 *    real coordinates, time zone and DST rule, currency scale, phone and
 *    postcode formats and real street names, ordered so that the first few
 *    mix scripts and locales: Moscow, Shanghai, Berlin, Paris, Chicago, Saint
 *    Petersburg, Beijing, Munich, Warsaw, São Paulo, Kazan, Guangzhou, Hamburg,
 *    Madrid, Istanbul, Novosibirsk, Chengdu, Lyon, Milan, Yekaterinburg.
 *    --territories N (default 3) takes the first N cities and names them
 *    "MOW-1", "SHA-1", "BER-1", ... (past 20 the cities repeat as "MOW-2");
 *    --territory A,B uses the given names, mapped onto the cities in order.
 *  - Customers (default 200), split evenly over the territories in blocks,
 *    placed around the city centre (normal spread ~8 km, never beyond 30 km,
 *    kept out of the lake / sea for Chicago, Saint Petersburg and Istanbul),
 *    with locale-appropriate company names (Latin script everywhere, with about
 *    a quarter of the Russian and Chinese customers in Cyrillic / CJK so the
 *    UTF-8 paths get exercised), legal form, street address with postcode,
 *    city, region, phone, e-mail and website derived from the name, the
 *    territory's rep as owner, a standing route order (greedy nearest-neighbour
 *    tour from the city centre; a Hilbert-curve order above 5000 customers per
 *    territory), grade (A 20%, B 30%, C 47%, VIP 3%) and classification, terms,
 *    monthly demand (in the local currency) and products, suppliers and
 *    competitors. Potential customers have sparser cards, as in real life.
 *    A company name that comes up twice gets a branch number ("... No. 2").
 *    Codes are "<TERRITORY>-<6 digits>" ("MOW1-000123"), unique per run; a
 *    store that already holds the first code of a territory is refused.
 *  - Contacts (default 2 per customer on average, 0-4 each): the first one is
 *    the decision maker, with title, mobile, e-mail at the company's domain,
 *    sometimes birthday and notes.
 *  - Visit history (default 10 per customer) over the three years before
 *    --date, on weekdays, in date order: done ~85% (check-in / check-out in UTC
 *    from the city's local time with its DST rule, position, contact met,
 *    discussed, outcome, sometimes problem + countermeasure, follow-up and next
 *    date), missed ~10%, cancelled ~5% (with a reason). VIP and A customers are
 *    visited more often; new customers only recently, lapsed ones not in the
 *    last six months. About 30% of the visits carry 1-4 order lines (prices in
 *    local currency, grade discounts, ~7%/year price drift) and about 25% a
 *    collection (receivable, received <= receivable, some left outstanding).
 *  - Plans: --plans N (default 12) visits on --date in each territory, the
 *    day's route (route_seq 1..N in standing route order, planned times from
 *    09:00, purpose, contact), plus about N/3 more per territory over the next
 *    two weeks (fewer when a territory has fewer customers; lapsed customers
 *    are not planned). --date defaults to today (fieldsync_local_date()).
 *
 * Determinism: every value comes from a splitmix64 generator seeded from
 * --seed; each record draws from its own stream (seed, kind, index), so the
 * same seed, sizes, territories and --date always give the same content -
 * names, codes, values, dates, times, counts - on any machine, compiler and
 * time zone (no rand(), no time(), no libm: the normal deviates and cosines
 * are plain IEEE arithmetic; no two draws in one unsequenced expression).
 * Customer cards depend only on the seed, the territories and --customers,
 * not on the other sizes. What is not reproducible, by design of the engine:
 * record ids are random 128-bit ids made by fieldsync_insert(), and the sync
 * metadata (replica id, HLC timestamps, change log) differs per store.
 * Compare content, not ids (tests/t/t0090-gen.sh shows how).
 *
 * Writes are batched, 2000 records per transaction. The customer, contact and
 * visit ids needed for references are kept in memory. On success a one-line
 * summary goes to stderr (unless --quiet) and, with --json, a JSON object to
 * stdout. Exit status: 0 ok, 2 bad arguments, 1 if the store already holds
 * the codes, otherwise the fieldsync CLI's code for the engine error (3 not
 * found, 4 out of memory, 5 store I/O, ...), with fieldsync_errmsg() on stderr;
 * the batch in progress is rolled back (earlier batches stay committed).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fieldsync.h"
#include "clikit.h"

/* No fused multiply-add: the same arithmetic, hence the same data, everywhere
 * (GCC already keeps -ffp-contract=off in ISO C mode). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define BATCH 2000
#define MAX_TERRITORIES 1000
#define MAX_CUSTOMERS 2000000LL
#define MAX_VISITS 20000000LL
#define MAX_PLANS 1000LL
#define NEL(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---------------------------------------------------------------- random
 * Rule for determinism: never two draws where C leaves the order open (two
 * arguments of one call, two operands of + or of an initializer list).
 */

typedef struct {
	uint64_t s;
} rng;

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnext(rng *r)
{
	r->s += 0x9e3779b97f4a7c15ULL;
	return mix64(r->s);
}

/* Independent streams: one per (kind of record, index). */
enum { S_POS = 1, S_CUST, S_TERR, S_CCOUNT, S_CONTACT, S_VSPEC, S_VISIT, S_PLAN };

static void rseed(rng *r, uint64_t seed, unsigned kind, uint64_t i)
{
	r->s = mix64(seed ^ mix64(((uint64_t)kind << 56) ^ mix64(i + 0x632be59bd9b4e019ULL)));
}

static uint32_t below(rng *r, uint32_t n)
{
	return n ? (uint32_t)(rnext(r) % n) : 0;
}

static int between(rng *r, int lo, int hi)
{
	return lo + (int)below(r, (uint32_t)(hi - lo + 1));
}

static double unif(rng *r)
{
	return (double)(rnext(r) >> 11) * (1.0 / 9007199254740992.0);
}

static int chance(rng *r, int pct)
{
	return (int)below(r, 100) < pct;
}

/* Irwin-Hall: a standard normal deviate within +-6, plain arithmetic. */
static double gauss(rng *r)
{
	double s = 0;
	for (int i = 0; i < 12; i++)
		s += unif(r);
	return s - 6.0;
}

/* An index drawn with the given integer weights. */
static int weighted(rng *r, const int *w, int n)
{
	int tot = 0;
	for (int i = 0; i < n; i++)
		tot += w[i];
	int x = (int)below(r, (uint32_t)tot);
	for (int i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return n - 1;
}

#define PICK(r, a) ((a)[below((r), (uint32_t)NEL(a))])

/* cos(x) for |x| < 1.6 by its Taylor series: the same bits everywhere. */
static double dcos(double x)
{
	double x2 = x * x, term = 1, sum = 1;
	for (int k = 1; k < 14; k++) {
		term *= -x2 / ((2 * k - 1) * (2 * k));
		sum += term;
	}
	return sum;
}

/* ------------------------------------------------------------------ dates */

static long days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, int *y, int *m, int *d)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* 0 = Sunday ... 6 = Saturday */
static int weekday(long day)
{
	long w = (day + 4) % 7;
	return (int)(w < 0 ? w + 7 : w);
}

static int is_weekend(long day)
{
	int w = weekday(day);
	return w == 0 || w == 6;
}

static void fmt_date(long day, char out[11])
{
	int y, m, d;
	civil_from_days(day, &y, &m, &d);
	/* by hand: the compiler cannot see that y, m and d are in range */
	int v[3] = { y, m, d }, at = 0;
	for (int k = 0; k < 3; k++) {
		int w = k ? 2 : 4;
		for (int j = w - 1; j >= 0; j--, v[k] /= 10)
			out[at + j] = (char)('0' + (v[k] % 10 + 10) % 10);
		at += w;
		out[at++] = k < 2 ? '-' : '\0';
	}
}

static int days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return dm[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

static int parse_date(const char *s, long *day)
{
	int y, m, d;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (y < 1905 || y > 2900 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	*day = days_from_civil(y, m, d);
	return 0;
}

enum { DST_NONE, DST_EU, DST_US };

static long first_sunday_on_or_after(long day)
{
	return day + (7 - weekday(day)) % 7;
}

/* Daylight saving in effect on a local date (changeover days approximated). */
static int dst_on(int rule, long day)
{
	int y, m, d;
	if (rule == DST_NONE)
		return 0;
	civil_from_days(day, &y, &m, &d);
	long a, b;
	if (rule == DST_EU) {
		long mar = days_from_civil(y, 3, 31), oct = days_from_civil(y, 10, 31);
		a = mar - weekday(mar);
		b = oct - weekday(oct);
	} else {
		a = first_sunday_on_or_after(days_from_civil(y, 3, 1)) + 7;
		b = first_sunday_on_or_after(days_from_civil(y, 11, 1));
	}
	return day >= a && day < b;
}

/* A local date + minute of day + second into a UTC "YYYY-MM-DDTHH:MM:SSZ". */
static void fmt_utc(long day, int minute, int sec, int tz_min, int dst, char out[48])
{
	long m = day * 1440 + minute - tz_min - (dst_on(dst, day) ? 60 : 0);
	long ud = m >= 0 ? m / 1440 : (m - 1439) / 1440;
	int rem = (int)(m - ud * 1440), y, mo, d;
	civil_from_days(ud, &y, &mo, &d);
	snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02dZ", y % 10000, mo, d, rem / 60, rem % 60,
		 sec % 60);
}

/* ------------------------------------------------------------------- data */

enum { L_RU, L_CN, L_DE, L_FR, L_PL, L_ES, L_IT, L_TR, L_BR, L_US, NLOC };

/* A word in Latin script and, for Russian and Chinese, its native form. */
struct w {
	const char *l, *n;
};
#define W(x) { x, NULL }
#define P(a, b) { a, b }
struct list {
	const struct w *v;
	int n;
};
#define LST(a) { a, NEL(a) }

/* Visit and contact texts in English, Russian and Chinese. */
struct t3 {
	const char *en, *ru, *zh;
};

struct city {
	const char *code, *name, *nname, *region;
	double lat, lon;
	int loc, tz, dst;
	double cur;		/* local currency units per euro */
	const char *phone, *postal;	/* '#' is a random digit */
	const char *street[8];
};

static const struct city cities[] = {
	{ "MOW", "Moscow", "Москва", "Moscow", 55.755800, 37.617300, L_RU, 180, DST_NONE, 95.0,
	  "+7 495 %##-##-##", "12####",
	  { "ul. Tverskaya", "ul. Arbat", "Leninsky pr.", "ul. Bolshaya Ordynka", "Kutuzovsky pr.",
	    "ul. Myasnitskaya", "pr. Mira", "ul. Pokrovka" } },
	{ "SHA", "Shanghai", "上海", "Shanghai", 31.230400, 121.473700, L_CN, 480, DST_NONE, 7.8,
	  "+86 21 6### ####", "200###",
	  { "Nanjing West Road", "Huaihai Middle Road", "Zhaojiabang Road", "Century Avenue",
	    "Xujiahui Road", "Siping Road", "Zhongshan North Road", "Changning Road" } },
	{ "BER", "Berlin", NULL, "Berlin", 52.520000, 13.405000, L_DE, 60, DST_EU, 1.0,
	  "+49 30 %#######", "10###",
	  { "Friedrichstraße", "Kurfürstendamm", "Karl-Marx-Allee", "Schönhauser Allee", "Torstraße",
	    "Kantstraße", "Sonnenallee", "Frankfurter Allee" } },
	{ "PAR", "Paris", NULL, "Île-de-France", 48.856600, 2.352200, L_FR, 60, DST_EU, 1.0,
	  "+33 1 %# ## ## ##", "7501#",
	  { "rue de Rivoli", "boulevard Haussmann", "rue du Faubourg Saint-Antoine",
	    "avenue de la République", "rue de Vaugirard", "boulevard Voltaire", "rue Oberkampf",
	    "avenue d'Italie" } },
	{ "CHI", "Chicago", NULL, "Illinois", 41.878100, -87.629800, L_US, -360, DST_US, 1.08,
	  "+1 312-%##-####", "606##",
	  { "N Michigan Ave", "W Madison St", "S State St", "N Clark St", "W Fullerton Ave",
	    "N Milwaukee Ave", "S Halsted St", "W Belmont Ave" } },
	{ "LED", "Saint Petersburg", "Санкт-Петербург", "Saint Petersburg", 59.934300, 30.335100, L_RU,
	  180, DST_NONE, 95.0, "+7 812 %##-##-##", "19####",
	  { "Nevsky pr.", "ul. Sadovaya", "Liteyny pr.", "ul. Marata", "Moskovsky pr.",
	    "ul. Gorokhovaya", "Bolshoy pr. P.S.", "ul. Rubinshteyna" } },
	{ "BJS", "Beijing", "北京", "Beijing", 39.904200, 116.407400, L_CN, 480, DST_NONE, 7.8,
	  "+86 10 6### ####", "100###",
	  { "Chang'an Avenue", "Wangfujing Street", "Chaoyang Road", "Zhongguancun Street",
	    "Xuanwumen Street", "Dongsi North Street", "Jianguo Road", "Beisanhuan Middle Road" } },
	{ "MUC", "Munich", NULL, "Bavaria", 48.135100, 11.582000, L_DE, 60, DST_EU, 1.0,
	  "+49 89 %#######", "80###",
	  { "Leopoldstraße", "Sendlinger Straße", "Kaufingerstraße", "Landsberger Straße",
	    "Rosenheimer Straße", "Schwanthalerstraße", "Dachauer Straße", "Ungererstraße" } },
	{ "WAW", "Warsaw", NULL, "Masovian Voivodeship", 52.229700, 21.012200, L_PL, 60, DST_EU, 4.3,
	  "+48 22 %## ## ##", "0^-###",
	  { "ul. Marszałkowska", "ul. Nowy Świat", "Aleje Jerozolimskie", "ul. Puławska",
	    "ul. Grójecka", "ul. Żelazna", "ul. Świętokrzyska", "ul. Targowa" } },
	{ "SAO", "São Paulo", NULL, "São Paulo", -23.550500, -46.633300, L_BR, -180, DST_NONE, 6.0,
	  "+55 11 3###-####", "0####-###",
	  { "Av. Paulista", "Rua Augusta", "Rua Oscar Freire", "Av. Brigadeiro Faria Lima",
	    "Rua da Consolação", "Av. Rebouças", "Rua 25 de Março", "Av. Ipiranga" } },
	{ "KZN", "Kazan", "Казань", "Republic of Tatarstan", 55.796100, 49.106400, L_RU, 180, DST_NONE,
	  95.0, "+7 843 %##-##-##", "420###",
	  { "ul. Baumana", "ul. Pushkina", "pr. Pobedy", "ul. Kremlyovskaya", "ul. Dekabristov",
	    "pr. Amirkhana", "ul. Chistopolskaya", "ul. Nesmelova" } },
	{ "CAN", "Guangzhou", "广州", "Guangdong", 23.129100, 113.264400, L_CN, 480, DST_NONE, 7.8,
	  "+86 20 8### ####", "510###",
	  { "Tianhe Road", "Zhongshan 5th Road", "Huanshi East Road", "Beijing Road",
	    "Jiefang North Road", "Huangpu Avenue", "Dongfeng Middle Road", "Gongye Avenue" } },
	{ "HAM", "Hamburg", NULL, "Hamburg", 53.551100, 9.993700, L_DE, 60, DST_EU, 1.0,
	  "+49 40 %#######", "20###",
	  { "Mönckebergstraße", "Reeperbahn", "Jungfernstieg", "Eppendorfer Weg", "Osterstraße",
	    "Wandsbeker Chaussee", "Bahrenfelder Straße", "Steindamm" } },
	{ "MAD", "Madrid", NULL, "Community of Madrid", 40.416800, -3.703800, L_ES, 60, DST_EU, 1.0,
	  "+34 91 %## ## ##", "280##",
	  { "Calle de Alcalá", "Gran Vía", "Calle de Serrano", "Calle de Bravo Murillo",
	    "Paseo de la Castellana", "Calle de Atocha", "Calle de Toledo", "Calle de Fuencarral" } },
	{ "IST", "Istanbul", NULL, "Istanbul", 41.008200, 28.978400, L_TR, 180, DST_NONE, 35.0,
	  "+90 212 %## ## ##", "344##",
	  { "İstiklal Caddesi", "Bağdat Caddesi", "Büyükdere Caddesi", "Halaskargazi Caddesi",
	    "Vatan Caddesi", "Fevzi Paşa Caddesi", "Barbaros Bulvarı", "Millet Caddesi" } },
	{ "OVB", "Novosibirsk", "Новосибирск", "Novosibirsk Oblast", 55.008400, 82.935700, L_RU, 420,
	  DST_NONE, 95.0, "+7 383 %##-##-##", "630###",
	  { "Krasny pr.", "ul. Lenina", "ul. Sovetskaya", "ul. Frunze", "ul. Kirova",
	    "ul. Vokzalnaya magistral", "ul. Gogolya", "ul. Oktyabrskaya" } },
	{ "CTU", "Chengdu", "成都", "Sichuan", 30.572800, 104.066800, L_CN, 480, DST_NONE, 7.8,
	  "+86 28 8### ####", "610###",
	  { "Chunxi Road", "Renmin South Road", "Tianfu Avenue", "Shuncheng Street", "Jinli Road",
	    "Yihuan Road", "Shudu Avenue", "Hongxing Road" } },
	{ "LYS", "Lyon", NULL, "Auvergne-Rhône-Alpes", 45.764000, 4.835700, L_FR, 60, DST_EU, 1.0,
	  "+33 4 %# ## ## ##", "6900#",
	  { "rue de la République", "cours Lafayette", "avenue Jean Jaurès", "rue Garibaldi",
	    "cours Vitton", "rue Paul Bert", "quai Saint-Antoine", "rue Mercière" } },
	{ "MIL", "Milan", NULL, "Lombardy", 45.464200, 9.190000, L_IT, 60, DST_EU, 1.0,
	  "+39 02 %### ####", "201##",
	  { "Via Torino", "Corso Buenos Aires", "Via Montenapoleone", "Viale Monza", "Corso Como",
	    "Via Padova", "Corso di Porta Romana", "Via Vittor Pisani" } },
	{ "SVX", "Yekaterinburg", "Екатеринбург", "Sverdlovsk Oblast", 56.838900, 60.605700, L_RU, 300,
	  DST_NONE, 95.0, "+7 343 %##-##-##", "620###",
	  { "ul. Malysheva", "pr. Lenina", "ul. Vaynera", "ul. 8 Marta", "ul. Kuybysheva",
	    "ul. Rozy Lyuksemburg", "ul. Mamina-Sibiryaka", "ul. Belinskogo" } },
};
#define NCITIES NEL(cities)

/* --- Russian --- */
static const struct w ru_male[] = { P("Aleksandr", "Александр"), P("Dmitry", "Дмитрий"),
	P("Sergey", "Сергей"), P("Andrey", "Андрей"), P("Alexey", "Алексей"), P("Ivan", "Иван"),
	P("Mikhail", "Михаил"), P("Nikolay", "Николай"), P("Rustam", "Рустам"), P("Pavel", "Павел") };
static const struct w ru_female[] = { P("Elena", "Елена"), P("Olga", "Ольга"),
	P("Natalia", "Наталья"), P("Tatiana", "Татьяна"), P("Irina", "Ирина"), P("Anna", "Анна"),
	P("Svetlana", "Светлана"), P("Maria", "Мария"), P("Guzel", "Гузель"), P("Yulia", "Юлия") };
static const struct w ru_last[] = { P("Ivanov", "Иванов"), P("Smirnov", "Смирнов"),
	P("Kuznetsov", "Кузнецов"), P("Popov", "Попов"), P("Vasiliev", "Васильев"),
	P("Petrov", "Петров"), P("Sokolov", "Соколов"), P("Mikhailov", "Михайлов"),
	P("Fedorov", "Фёдоров"), P("Morozov", "Морозов"), P("Volkov", "Волков"),
	P("Lebedev", "Лебедев"), P("Semenov", "Семёнов"), P("Egorov", "Егоров"),
	P("Pavlov", "Павлов"), P("Kozlov", "Козлов"), P("Galiev", "Галиев"), P("Sharipov", "Шарипов") };
static const struct w ru_biz[] = { P("Torg", "Торг"), P("Opt", "Опт"), P("Snab", "Снаб"),
	P("Treid", "Трейд"), P("Market", "Маркет"), P("Servis", "Сервис"), P("Prod", "Прод"),
	P("Invest", "Инвест") };
static const struct w ru_fancy[] = { P("Vostok", "Восток"), P("Volga", "Волга"),
	P("Sever", "Север"), P("Rassvet", "Рассвет"), P("Zarya", "Заря"), P("Raduga", "Радуга"),
	P("Yantar", "Янтарь"), P("Sibir", "Сибирь"), P("Ural", "Урал"), P("Kristall", "Кристалл"),
	P("Slavyanka", "Славянка"), P("Almaz", "Алмаз"), P("Berezka", "Берёзка"),
	P("Romashka", "Ромашка"), P("Avangard", "Авангард"), P("Monolit", "Монолит"),
	P("Kedr", "Кедр"), P("Neva", "Нева"), P("Kama", "Кама"), P("Solnechny", "Солнечный") };
static const struct w ru_pat[] = { P("TD \"{F}\"", "ТД «{F}»"), P("{F}-{B}", "{F}-{B}"),
	P("Magazin \"{F}\"", "Магазин «{F}»"), P("Supermarket \"{F}\"", "Супермаркет «{F}»"),
	P("Torgovaya kompaniya \"{F}\"", "Торговая компания «{F}»"), P("{F}{B}", "{F}{B}"),
	P("Gruppa kompaniy \"{F}\"", "Группа компаний «{F}»") };
static const struct w ru_inst[] = { P("Shkola No. {N}", "Школа № {N}"),
	P("Detsky sad No. {N}", "Детский сад № {N}"),
	P("Gorodskaya bolnitsa No. {N}", "Городская больница № {N}"),
	P("Stolovaya No. {N}", "Столовая № {N}") };
static const struct w ru_legal[] = { P("OOO", "ООО"), P("AO", "АО"), P("PAO", "ПАО") };
static const struct w ru_streets[] = { P("ul. Lenina", "ул. Ленина"), P("ul. Gagarina", "ул. Гагарина"),
	P("pr. Mira", "пр. Мира"), P("ul. Sovetskaya", "ул. Советская"), P("ul. Sadovaya", "ул. Садовая"),
	P("ul. Pushkina", "ул. Пушкина"), P("ul. Moskovskaya", "ул. Московская"),
	P("ul. Molodyozhnaya", "ул. Молодёжная") };

/* --- Chinese --- */
static const struct w cn_last[] = { P("Wang", "王"), P("Li", "李"), P("Zhang", "张"), P("Liu", "刘"),
	P("Chen", "陈"), P("Yang", "杨"), P("Huang", "黄"), P("Zhao", "赵"), P("Wu", "吴"),
	P("Zhou", "周"), P("Xu", "徐"), P("Sun", "孙"), P("Ma", "马"), P("Zhu", "朱") };
static const struct w cn_given[] = { P("Wei", "伟"), P("Fang", "芳"), P("Na", "娜"), P("Min", "敏"),
	P("Jing", "静"), P("Li", "丽"), P("Qiang", "强"), P("Lei", "磊"), P("Jun", "军"),
	P("Yang", "洋"), P("Yong", "勇"), P("Yan", "艳"), P("Jie", "杰"), P("Tao", "涛"),
	P("Ming", "明"), P("Chao", "超"), P("Hua", "华"), P("Xiu", "秀"), P("Hui", "慧"), P("Bo", "波") };
static const struct w cn_biz[] = { P("Supermarket", "超市"), P("Convenience Store", "便利店"),
	P("Trading", "商贸"), P("Food Wholesale", "食品批发"), P("Department Store", "百货"),
	P("Supply Chain", "供应链"), P("Fresh Market", "生鲜超市"), P("Tobacco & Liquor", "烟酒店") };
static const struct w cn_fancy[] = { P("Hualian", "华联"), P("Xinhua", "新华"), P("Jinmao", "金茂"),
	P("Hongxing", "红星"), P("Dongfang", "东方"), P("Tianhe", "天河"), P("Changcheng", "长城"),
	P("Yongsheng", "永盛"), P("Fuxing", "复兴"), P("Baisheng", "百盛"), P("Jiahe", "嘉禾"),
	P("Xingfu", "幸福"), P("Lianhua", "联华"), P("Huarun", "华润"), P("Jinxiu", "锦绣"),
	P("Hengtong", "恒通") };
static const struct w cn_pat[] = { P("{C} {F} {B}", "{C}{F}{B}"), P("{F} {B}", "{F}{B}"),
	P("{C} {F} {B}", "{C}{F}{B}"), P("{F} {B} ({C})", "{F}{B}（{C}）") };
static const struct w cn_inst[] = { P("{C} No. {N} Middle School", "{C}第{N}中学"),
	P("{C} No. {N} People's Hospital", "{C}第{N}人民医院"),
	P("{C} {F} Kindergarten", "{C}{F}幼儿园") };
static const struct w cn_legal[] = { P("Co., Ltd.", "有限公司"), P("Trading Firm", "商行"),
	P("Joint Stock Co., Ltd.", "股份有限公司") };
static const struct w cn_streets[] = { P("Renmin Road", "人民路"), P("Jiefang Road", "解放路"),
	P("Zhongshan Road", "中山路"), P("Jianshe Road", "建设路"), P("Heping Road", "和平路"),
	P("Changjiang Road", "长江路"), P("Xinhua Road", "新华路"), P("Shengli Road", "胜利路") };

/* --- German --- */
static const struct w de_male[] = { W("Thomas"), W("Michael"), W("Andreas"), W("Stefan"),
	W("Christian"), W("Markus"), W("Jürgen"), W("Jörg"), W("Tobias"), W("Lukas") };
static const struct w de_female[] = { W("Anna"), W("Julia"), W("Sabine"), W("Katrin"),
	W("Claudia"), W("Petra"), W("Jana"), W("Lena"), W("Birgit"), W("Sophie") };
static const struct w de_last[] = { W("Müller"), W("Schmidt"), W("Schneider"), W("Fischer"),
	W("Weber"), W("Meyer"), W("Wagner"), W("Becker"), W("Schulz"), W("Hoffmann"), W("Schäfer"),
	W("Koch"), W("Bauer"), W("Richter"), W("Klein"), W("Wolf"), W("Schröder"), W("Neumann") };
static const struct w de_biz[] = { W("Getränkehandel"), W("Lebensmittel"), W("Feinkost"),
	W("Großhandel"), W("Frischemarkt"), W("Handelsgesellschaft"), W("Backshop"),
	W("Drogeriemarkt"), W("Kiosk"), W("Gastro-Service") };
static const struct w de_fancy[] = { W("Nord"), W("Süd"), W("Spree"), W("Hanse"), W("Isar"),
	W("Alpen"), W("Elbe"), W("Linden"), W("Sonnen"), W("Stadt") };
static const struct w de_pat[] = { W("{L} {B}"), W("{F}-{B}"), W("{B} {L}"), W("{L} & {M}") };
static const struct w de_inst[] = { W("Grundschule am {F}park"), W("Kantine Bezirksamt {F}"),
	W("Klinikum {F}") };
static const struct w de_legal[] = { W("GmbH"), W("GmbH & Co. KG"), W("e.K."), W("AG"),
	W("UG (haftungsbeschränkt)") };

/* --- French --- */
static const struct w fr_male[] = { W("Jean"), W("Pierre"), W("Michel"), W("Philippe"),
	W("Nicolas"), W("François"), W("Stéphane"), W("Frédéric"), W("Julien"), W("Olivier") };
static const struct w fr_female[] = { W("Marie"), W("Nathalie"), W("Isabelle"), W("Sophie"),
	W("Céline"), W("Hélène"), W("Camille"), W("Sandrine"), W("Chloé"), W("Valérie") };
static const struct w fr_last[] = { W("Martin"), W("Bernard"), W("Dubois"), W("Thomas"),
	W("Robert"), W("Richard"), W("Petit"), W("Durand"), W("Leroy"), W("Moreau"), W("Simon"),
	W("Laurent"), W("Lefèvre"), W("Michel"), W("Fournier"), W("Girard"), W("Bonnet"), W("Roux") };
static const struct w fr_biz[] = { W("Épicerie"), W("Supérette"), W("Cave"), W("Boulangerie"),
	W("Alimentation"), W("Primeurs"), W("Traiteur"), W("Comptoir") };
static const struct w fr_fancy[] = { W("du Marché"), W("de la Gare"), W("du Centre"),
	W("Saint-Michel"), W("des Halles"), W("du Parc"), W("Bellevue"), W("des Lilas") };
static const struct w fr_pat[] = { W("{B} {F}"), W("{B} {L}"), W("{L} Distribution"),
	W("{L} & Fils") };
static const struct w fr_inst[] = { W("Collège {F}"), W("Cantine scolaire {F}"),
	W("Clinique {F}") };
static const struct w fr_legal[] = { W("SARL"), W("SAS"), W("EURL"), W("SA") };

/* --- Polish --- */
static const struct w pl_male[] = { W("Piotr"), W("Krzysztof"), W("Andrzej"), W("Tomasz"),
	W("Paweł"), W("Michał"), W("Marcin"), W("Łukasz"), W("Grzegorz"), W("Jakub") };
static const struct w pl_female[] = { W("Anna"), W("Katarzyna"), W("Małgorzata"), W("Agnieszka"),
	W("Joanna"), W("Magdalena"), W("Ewa"), W("Barbara"), W("Dorota"), W("Zofia") };
static const struct w pl_last[] = { W("Nowak"), W("Kowalski"), W("Wiśniewski"), W("Wójcik"),
	W("Kowalczyk"), W("Kamiński"), W("Lewandowski"), W("Zieliński"), W("Szymański"),
	W("Woźniak"), W("Dąbrowski"), W("Kozłowski"), W("Mazur"), W("Krawczyk"), W("Jankowski") };
static const struct w pl_biz[] = { W("Sklep Spożywczy"), W("Hurtownia"), W("Delikatesy"),
	W("Piekarnia"), W("Market"), W("Handel"), W("Dystrybucja"), W("Kiosk") };
static const struct w pl_fancy[] = { W("Wisła"), W("Mazowsze"), W("Sokół"), W("Pod Lipami"),
	W("Złoty Kłos"), W("Centrum"), W("Praga"), W("Syrenka") };
static const struct w pl_pat[] = { W("{B} {F}"), W("{B} \"{F}\""), W("PHU {L}"), W("FHU {F}") };
static const struct w pl_inst[] = { W("Szkoła Podstawowa nr {N}"), W("Przedszkole nr {N}"),
	W("Szpital Miejski nr {N}") };
static const struct w pl_legal[] = { W("sp. z o.o."), W("s.c."), W("S.A."), W("sp.j.") };

/* --- Spanish --- */
static const struct w es_male[] = { W("José"), W("Antonio"), W("Manuel"), W("Francisco"),
	W("David"), W("Javier"), W("Jesús"), W("Carlos"), W("Sergio"), W("Álvaro") };
static const struct w es_female[] = { W("María"), W("Carmen"), W("Ana"), W("Laura"), W("Lucía"),
	W("Isabel"), W("Marta"), W("Pilar"), W("Elena"), W("Cristina") };
static const struct w es_last[] = { W("García"), W("Fernández"), W("González"), W("Rodríguez"),
	W("López"), W("Martínez"), W("Sánchez"), W("Pérez"), W("Gómez"), W("Martín"), W("Jiménez"),
	W("Ruiz"), W("Hernández"), W("Díaz"), W("Moreno"), W("Muñoz") };
static const struct w es_biz[] = { W("Supermercado"), W("Distribuciones"), W("Alimentación"),
	W("Comercial"), W("Bodega"), W("Panadería"), W("Frutas"), W("Autoservicio") };
static const struct w es_fancy[] = { W("La Esperanza"), W("El Sol"), W("Castilla"),
	W("San Isidro"), W("Los Pinos"), W("El Rastro"), W("La Paloma"), W("Chamberí") };
static const struct w es_pat[] = { W("{B} {F}"), W("{B} {L}"), W("Hermanos {L}"),
	W("{L} e Hijos") };
static const struct w es_inst[] = { W("Colegio Público {F}"), W("Hospital {F}"),
	W("Residencia {F}") };
static const struct w es_legal[] = { W("S.L."), W("S.A."), W("S.L.U."), W("S.Coop.") };

/* --- Italian --- */
static const struct w it_male[] = { W("Giuseppe"), W("Marco"), W("Luca"), W("Giovanni"),
	W("Andrea"), W("Francesco"), W("Alessandro"), W("Matteo"), W("Roberto"), W("Niccolò") };
static const struct w it_female[] = { W("Giulia"), W("Francesca"), W("Chiara"), W("Sara"),
	W("Valentina"), W("Paola"), W("Elena"), W("Federica"), W("Silvia"), W("Martina") };
static const struct w it_last[] = { W("Rossi"), W("Russo"), W("Ferrari"), W("Esposito"),
	W("Bianchi"), W("Romano"), W("Colombo"), W("Ricci"), W("Marino"), W("Greco"), W("Bruno"),
	W("Gallo"), W("Conti"), W("De Luca"), W("Mancini"), W("Lombardi") };
static const struct w it_biz[] = { W("Alimentari"), W("Supermercato"), W("Distribuzione"),
	W("Drogheria"), W("Enoteca"), W("Salumeria"), W("Panificio"), W("Commerciale") };
static const struct w it_fancy[] = { W("Lombarda"), W("Il Duomo"), W("San Siro"), W("Navigli"),
	W("Bella Vista"), W("Del Corso"), W("La Scala"), W("Brera") };
static const struct w it_pat[] = { W("{B} {L}"), W("{B} {F}"), W("{L} & Figli"), W("{L} {B}") };
static const struct w it_inst[] = { W("Istituto Comprensivo {L}"), W("Mensa Comunale {F}"),
	W("Ospedale {F}") };
static const struct w it_legal[] = { W("S.r.l."), W("S.n.c."), W("S.p.A."), W("S.a.s.") };

/* --- Turkish --- */
static const struct w tr_male[] = { W("Mehmet"), W("Mustafa"), W("Ahmet"), W("Ali"),
	W("Hüseyin"), W("Hasan"), W("İbrahim"), W("Murat"), W("Emre"), W("Oğuz") };
static const struct w tr_female[] = { W("Fatma"), W("Ayşe"), W("Emine"), W("Hatice"),
	W("Zeynep"), W("Elif"), W("Özlem"), W("Merve"), W("Şule"), W("Gül") };
static const struct w tr_last[] = { W("Yılmaz"), W("Kaya"), W("Demir"), W("Şahin"), W("Çelik"),
	W("Yıldız"), W("Yıldırım"), W("Öztürk"), W("Aydın"), W("Özdemir"), W("Arslan"), W("Doğan"),
	W("Kılıç"), W("Aslan"), W("Koç"), W("Kurt") };
static const struct w tr_biz[] = { W("Market"), W("Gıda"), W("Toptan Gıda"), W("Şarküteri"),
	W("Bakkal"), W("Ticaret"), W("Dağıtım"), W("Kuruyemiş") };
static const struct w tr_fancy[] = { W("Boğaziçi"), W("Anadolu"), W("Marmara"), W("Yıldız"),
	W("Güneş"), W("Karadeniz"), W("Ege"), W("Galata") };
static const struct w tr_pat[] = { W("{F} {B}"), W("{L} {B}"), W("{L} Kardeşler"),
	W("{F} {B}") };
static const struct w tr_inst[] = { W("{F} İlkokulu"), W("{F} Devlet Hastanesi"),
	W("{F} Belediyesi Kantini") };
static const struct w tr_legal[] = { W("Ltd. Şti."), W("A.Ş."), W("Koll. Şti.") };

/* --- Brazilian Portuguese --- */
static const struct w br_male[] = { W("João"), W("José"), W("Antônio"), W("Francisco"),
	W("Carlos"), W("Paulo"), W("Pedro"), W("Lucas"), W("Luiz"), W("Marcos") };
static const struct w br_female[] = { W("Maria"), W("Ana"), W("Francisca"), W("Juliana"),
	W("Márcia"), W("Fernanda"), W("Adriana"), W("Patrícia"), W("Aline"), W("Camila") };
static const struct w br_last[] = { W("Silva"), W("Santos"), W("Oliveira"), W("Souza"),
	W("Rodrigues"), W("Ferreira"), W("Alves"), W("Pereira"), W("Lima"), W("Gomes"), W("Costa"),
	W("Ribeiro"), W("Martins"), W("Carvalho"), W("Araújo"), W("Conceição") };
static const struct w br_biz[] = { W("Supermercado"), W("Mercearia"), W("Distribuidora"),
	W("Atacado"), W("Padaria"), W("Empório"), W("Comércio"), W("Hortifruti") };
static const struct w br_fancy[] = { W("Paulista"), W("Bom Preço"), W("São Jorge"), W("Estrela"),
	W("Ipiranga"), W("Boa Vista"), W("Primavera"), W("Pinheiros") };
static const struct w br_pat[] = { W("{B} {F}"), W("{B} {L}"), W("{L} & Filhos"),
	W("{F} {B}") };
static const struct w br_inst[] = { W("Escola Estadual {F}"), W("Hospital {F}"),
	W("Creche {F}") };
static const struct w br_legal[] = { W("Ltda."), W("EIRELI"), W("S.A.") };

/* --- US English --- */
static const struct w us_male[] = { W("James"), W("John"), W("Robert"), W("Michael"),
	W("William"), W("David"), W("Daniel"), W("Kevin"), W("Tomasz"), W("Luis") };
static const struct w us_female[] = { W("Mary"), W("Patricia"), W("Jennifer"), W("Linda"),
	W("Elizabeth"), W("Susan"), W("Jessica"), W("Sarah"), W("Maria"), W("Keisha") };
static const struct w us_last[] = { W("Smith"), W("Johnson"), W("Williams"), W("Brown"),
	W("Jones"), W("Miller"), W("Davis"), W("Wilson"), W("Anderson"), W("Taylor"), W("Moore"),
	W("Jackson"), W("Kowalski"), W("Nowak"), W("Murphy"), W("O'Brien"), W("Garcia"),
	W("Hernandez") };
static const struct w us_biz[] = { W("Market"), W("Foods"), W("Grocery"), W("Distributors"),
	W("Deli"), W("Liquors"), W("Supply Co."), W("Wholesale") };
static const struct w us_fancy[] = { W("Lakeshore"), W("Windy City"), W("Wrigleyville"),
	W("Midway"), W("Prairie"), W("Logan Square"), W("Pilsen"), W("Northside") };
static const struct w us_pat[] = { W("{F} {B}"), W("{L}'s {B}"), W("{L} & Sons"), W("{F} {B}") };
static const struct w us_inst[] = { W("{F} Elementary School"), W("{F} Community Hospital"),
	W("{F} Senior Center") };
static const struct w us_legal[] = { W("LLC"), W("Inc."), W("Corp.") };

struct locale {
	struct list male, female, last, biz, fancy, pat, inst, legal, nstreet;
	struct w legal_ind, legal_gov;
	const char *tld, *mail[3], *mobile;
	int name_style;		/* 0 First Last, 1 Chinese, 2 First Last1 Last2 */
	int fem;		/* female surnames: 1 Russian +a, 2 Polish -ski/-cki */
	int addr;		/* address layout, see make_address() */
	int lang;		/* native-script texts: 1 Russian, 2 Chinese */
	const char *suppliers[5];
	struct w branch;	/* told apart from a same-named customer: " No. {N}" */
};

#define NONE { NULL, 0 }

static const struct locale locales[NLOC] = {
	[L_RU] = { LST(ru_male), LST(ru_female), LST(ru_last), LST(ru_biz), LST(ru_fancy),
		   LST(ru_pat), LST(ru_inst), LST(ru_legal), LST(ru_streets), P("IP", "ИП"),
		   P("GBU", "ГБУ"), "ru", { "mail.ru", "yandex.ru", "gmail.com" },
		   "+7 9## ###-##-##", 0, 1, 0, 1,
		   { "Metro Cash & Carry", "Megapolis", "Alidi", "Sladkaya Zhizn", "Lenta Opt" },
		   P(" No. {N}", " № {N}") },
	[L_CN] = { LST(cn_given), LST(cn_given), LST(cn_last), LST(cn_biz), LST(cn_fancy),
		   LST(cn_pat), LST(cn_inst), LST(cn_legal), LST(cn_streets),
		   P("Individual business", "个体工商户"), P("Public institution", "事业单位"), "com.cn",
		   { "qq.com", "163.com", "126.com" }, "+86 13# #### ####", 1, 0, 1, 2,
		   { "Metro China", "Yonghui Wholesale", "JD New Link", "Wumart Distribution",
		     "Bailian Wholesale" },
		   P(" Store No. {N}", "第{N}分店") },
	[L_DE] = { LST(de_male), LST(de_female), LST(de_last), LST(de_biz), LST(de_fancy),
		   LST(de_pat), LST(de_inst), LST(de_legal), NONE, W("Einzelunternehmen"),
		   W("Körperschaft des öffentlichen Rechts"), "de", { "gmx.de", "web.de", "t-online.de" },
		   "+49 15# %#######", 0, 0, 2, 0,
		   { "Metro", "Selgros", "Edeka Großhandel", "Transgourmet", "Lekkerland" },
		   W(" Filiale {N}") },
	[L_FR] = { LST(fr_male), LST(fr_female), LST(fr_last), LST(fr_biz), LST(fr_fancy),
		   LST(fr_pat), LST(fr_inst), LST(fr_legal), NONE, W("EI"), W("Établissement public"),
		   "fr", { "orange.fr", "free.fr", "gmail.com" }, "+33 6 ## ## ## ##", 0, 0, 3, 0,
		   { "Metro France", "Promocash", "Sysco France", "Transgourmet", "France Boissons" },
		   W(" n°{N}") },
	[L_PL] = { LST(pl_male), LST(pl_female), LST(pl_last), LST(pl_biz), LST(pl_fancy),
		   LST(pl_pat), LST(pl_inst), LST(pl_legal), NONE, W("JDG"),
		   W("jednostka budżetowa"), "pl", { "wp.pl", "onet.pl", "o2.pl" }, "+48 5## ### ###",
		   0, 2, 2, 0, { "Makro", "Selgros", "Eurocash", "Specjał", "Bać-Pol" },
		   W(" nr {N}") },
	[L_ES] = { LST(es_male), LST(es_female), LST(es_last), LST(es_biz), LST(es_fancy),
		   LST(es_pat), LST(es_inst), LST(es_legal), NONE, W("Autónomo"),
		   W("Organismo público"), "es", { "gmail.com", "hotmail.es", "yahoo.es" },
		   "+34 6## ### ###", 2, 0, 2, 0,
		   { "Makro", "Transgourmet Ibérica", "Cash Fresh", "GM Food", "Dia Distribución" },
		   W(" nº {N}") },
	[L_IT] = { LST(it_male), LST(it_female), LST(it_last), LST(it_biz), LST(it_fancy),
		   LST(it_pat), LST(it_inst), LST(it_legal), NONE, W("Ditta individuale"),
		   W("Ente pubblico"), "it", { "libero.it", "gmail.com", "virgilio.it" },
		   "+39 3## ### ####", 0, 0, 2, 0,
		   { "Metro Italia", "Sogegross", "Marr", "Lombardini", "Carrefour Ingrosso" },
		   W(" n. {N}") },
	[L_TR] = { LST(tr_male), LST(tr_female), LST(tr_last), LST(tr_biz), LST(tr_fancy),
		   LST(tr_pat), LST(tr_inst), LST(tr_legal), NONE, W("Şahıs firması"),
		   W("Kamu kurumu"), "com.tr", { "gmail.com", "hotmail.com", "yandex.com.tr" },
		   "+90 5## ### ## ##", 0, 0, 4, 0,
		   { "Metro Türkiye", "Bizim Toptan", "Migros Toptan", "Anadolu Dağıtım", "Ülker Dağıtım" },
		   W(" Şube {N}") },
	[L_BR] = { LST(br_male), LST(br_female), LST(br_last), LST(br_biz), LST(br_fancy),
		   LST(br_pat), LST(br_inst), LST(br_legal), NONE, W("MEI"), W("Órgão público"),
		   "com.br", { "uol.com.br", "gmail.com", "bol.com.br" }, "+55 11 9####-####", 2, 0, 5, 0,
		   { "Assaí Atacadista", "Atacadão", "Makro", "Martins Atacado", "Tenda Atacado" },
		   W(" - Filial {N}") },
	[L_US] = { LST(us_male), LST(us_female), LST(us_last), LST(us_biz), LST(us_fancy),
		   LST(us_pat), LST(us_inst), LST(us_legal), NONE, W("Sole proprietorship"),
		   W("Public agency"), "com", { "gmail.com", "yahoo.com", "outlook.com" },
		   "+1 773-%##-####", 0, 0, 6, 0,
		   { "Sysco", "US Foods", "Costco Business Center", "McLane", "Jetro" },
		   W(" #{N}") },
};

struct product {
	const char *name;
	int eur_cents;		/* list price per unit (case / pack) */
	int cat;
};

static const char *const categories[] = { "bottled water", "juices", "soft drinks",
	"tea and coffee", "confectionery", "snacks", "grocery staples", "canned food",
	"household chemicals", "paper goods", "personal care" };

static const struct product products[] = {
	{ "Mineral water 0.5 L x12", 420, 0 }, { "Sparkling water 1.5 L x6", 390, 0 },
	{ "Orange juice 1 L x12", 1680, 1 }, { "Apple juice 1 L x12", 1440, 1 },
	{ "Cola 0.33 L can x24", 1150, 2 }, { "Iced tea 0.5 L x12", 1020, 2 },
	{ "Energy drink 0.25 L x24", 2640, 2 }, { "Black tea 100 bags", 450, 3 },
	{ "Green tea 100 bags", 520, 3 }, { "Ground coffee 1 kg", 1290, 3 },
	{ "Coffee beans 1 kg", 1590, 3 }, { "Instant coffee 200 g", 690, 3 },
	{ "Milk chocolate 100 g x20", 1800, 4 }, { "Wafers 150 g x16", 1520, 4 },
	{ "Cookies 300 g x12", 1560, 4 }, { "Potato chips 150 g x14", 1610, 5 },
	{ "Salted peanuts 200 g x12", 1200, 5 }, { "Breakfast cereal 500 g x8", 2080, 6 },
	{ "Pasta 500 g x20", 1700, 6 }, { "Rice 1 kg x10", 1650, 6 },
	{ "Sunflower oil 1 L x15", 2550, 6 }, { "Canned tomatoes 400 g x24", 1920, 7 },
	{ "Tuna in oil 160 g x24", 3600, 7 }, { "Dish soap 1 L x12", 1500, 8 },
	{ "Laundry detergent 3 kg x4", 2760, 8 }, { "Paper towels 2 rolls x12", 1680, 9 },
	{ "Toilet paper 8 rolls x6", 2100, 9 }, { "Shampoo 400 ml x12", 3120, 10 },
	{ "Toothpaste 100 ml x24", 2880, 10 }, { "Hand soap 300 ml x12", 1380, 8 },
};

static const char *const competitors[] = { "PepsiCo", "Coca-Cola HBC", "Nestlé", "Danone",
	"Mondelēz", "Mars", "Unilever", "Procter & Gamble", "Henkel", "Red Bull", "Ferrero",
	"Kraft Heinz" };

static const char *const cust_notes[] = { "Deliveries only before 10:00",
	"Ask for the warehouse manager at the back entrance", "Parking behind the building",
	"Closed on Mondays", "Prefers orders by messenger", "Pays at month end; remind on the 25th",
	"Owner is in the shop on Fridays", "Needs invoices in two copies",
	"Seasonal: peak in December", "Competitor's rep visits every Tuesday",
	"Unloading ramp is narrow: small truck only", "Asks for the promo calendar each quarter" };

static const char *const contact_notes[] = { "Prefers calls after 14:00", "Speaks English",
	"On holiday in August", "Answers fast on messenger", "Decides only with the owner",
	"Likes product samples", "Do not call on Mondays" };

static const struct t3 titles[3][4] = {
	{ { "Owner", "Владелец", "老板" }, { "General Director", "Генеральный директор", "总经理" },
	  { "Store Manager", "Директор магазина", "店长" },
	  { "Head of Purchasing", "Руководитель отдела закупок", "采购总监" } },
	{ { "Purchasing Manager", "Менеджер по закупкам", "采购经理" },
	  { "Category Manager", "Категорийный менеджер", "品类经理" },
	  { "Chief Accountant", "Главный бухгалтер", "财务主管" },
	  { "Deputy Director", "Заместитель директора", "副总经理" } },
	{ { "Warehouse Manager", "Заведующий складом", "仓库主管" },
	  { "Shift Supervisor", "Старший смены", "值班主管" }, { "Merchandiser", "Товаровед", "理货员" },
	  { "Receiving Clerk", "Приёмщик товара", "收货员" } },
};
static const char *const roles[] = { "decision_maker", "influencer", "user" };

static const struct t3 purposes[] = {
	{ "Regular visit", "Плановый визит", "例行拜访" }, { "Take order", "Приём заказа", "接收订单" },
	{ "Collect payment", "Сбор оплаты", "收款" },
	{ "Present new products", "Презентация новинок", "新品推介" },
	{ "Merchandising check", "Проверка выкладки", "陈列检查" },
	{ "Negotiate contract terms", "Переговоры по договору", "合同谈判" },
	{ "Resolve complaint", "Разбор претензии", "处理投诉" },
	{ "Introduce new price list", "Новый прайс-лист", "介绍新价目表" },
	{ "Stock check", "Проверка остатков", "库存检查" },
	{ "Set up promotion", "Запуск акции", "布置促销" },
};
static const struct t3 first_visit = { "First visit: needs assessment",
	"Первый визит: выявление потребностей", "首次拜访：了解需求" };

static const struct t3 outcomes_plain[] = {
	{ "Stock sufficient, no order this time", "Остатков достаточно, заказа нет", "库存充足，本次未下单" },
	{ "Customer will decide next week", "Клиент решит на следующей неделе", "客户下周决定" },
	{ "Promo display installed", "Установлен промо-стенд", "促销陈列已布置" },
	{ "Complaint resolved", "Претензия урегулирована", "投诉已解决" },
	{ "Agreed new price terms", "Согласованы новые цены", "新价格条款已商定" },
	{ "Samples left for tasting", "Оставлены образцы", "已留下样品" },
	{ "Contact unavailable, left the catalogue", "Контакта не было, оставлен каталог", "联系人不在，留下目录" },
	{ "Interested, offer to be sent", "Интерес есть, отправим предложение", "有兴趣，将发送报价" },
};
static const struct t3 outcomes_order[] = {
	{ "Order taken", "Заказ принят", "已接订单" },
	{ "Repeat order placed", "Повторный заказ", "已下重复订单" },
	{ "Trial order of the new line", "Пробный заказ новинки", "新品试订单" },
	{ "Order taken, delivery on Thursday", "Заказ принят, доставка в четверг", "已接订单，周四送货" },
};
static const struct t3 outcome_paid = { "Payment collected", "Оплата получена", "已收款" };

static const struct t3 miss_reasons[] = {
	{ "Customer closed", "Магазин закрыт", "客户关门" },
	{ "Contact on leave", "Контакт в отпуске", "联系人休假" },
	{ "Traffic jam, did not make it", "Пробки, не успел", "堵车，未能赶到" },
	{ "Rep ill", "Болезнь представителя", "业务员生病" },
	{ "Rescheduled by the customer", "Перенесено клиентом", "客户改期" },
	{ "Stock-taking day", "Инвентаризация", "盘点日" },
};

static const struct t3 topics[] = {
	{ "the new price list", "новый прайс-лист", "新价目表" },
	{ "shelf placement", "выкладку на полке", "货架陈列" },
	{ "the summer promotion", "летнюю акцию", "夏季促销" },
	{ "the delivery schedule", "график поставок", "送货时间表" },
	{ "overdue invoices", "просроченные счета", "逾期发票" },
	{ "returns of expired stock", "возврат просроченного товара", "过期商品退货" },
	{ "the competitor's discount", "скидку конкурента", "竞争对手的折扣" },
	{ "a trial order of the new line", "пробный заказ новинки", "新品试订单" },
	{ "payment terms", "условия оплаты", "付款条件" },
	{ "the annual volume bonus", "годовой бонус за объём", "年度返利" },
	{ "merchandising standards", "стандарты выкладки", "陈列标准" },
	{ "the holiday assortment", "праздничный ассортимент", "节日商品组合" },
};

static const struct t3 problems[][2] = {
	{ { "Shelf space cut in favour of a competitor", "Сократили полку в пользу конкурента", "货架空间被竞品挤占" },
	  { "Offered a display bonus for three months", "Предложили бонус за выкладку на 3 месяца", "提供三个月陈列奖励" } },
	{ { "Late deliveries last month", "Задержки поставок в прошлом месяце", "上月送货延误" },
	  { "Escalated to logistics; delivery moved to the morning slot",
	    "Передали в логистику, доставка перенесена на утро", "已反馈物流，改为上午送货" } },
	{ { "Invoices overdue by more than 60 days", "Просрочка оплаты более 60 дней", "发票逾期超过60天" },
	  { "Agreed a payment schedule; new orders on prepayment",
	    "Согласован график платежей, новые заказы по предоплате", "商定还款计划，新订单预付款" } },
	{ { "Expired stock on the shelf", "Просроченный товар на полке", "货架上有过期商品" },
	  { "Arranged a return and trained staff on stock rotation",
	    "Организован возврат, персонал обучен ротации", "安排退货并培训员工先进先出" } },
	{ { "Our price is above the competitor's", "Наша цена выше, чем у конкурента", "我方价格高于竞品" },
	  { "Offered a volume discount on the next order", "Предложили скидку за объём на следующий заказ",
	    "下次订单提供批量折扣" } },
	{ { "Damaged packaging in the last delivery", "Повреждённая упаковка в последней поставке", "上批货包装破损" },
	  { "Credit note issued", "Оформлена корректировка счёта", "已开具红字发票" } },
	{ { "Key contact left the company", "Ключевой контакт уволился", "关键联系人已离职" },
	  { "Met the new purchasing manager", "Познакомились с новым закупщиком", "已拜会新的采购经理" } },
};

static const struct t3 follow_ups[] = {
	{ "Send the updated price list", "Отправить обновлённый прайс-лист", "发送最新价目表" },
	{ "Call to confirm the delivery", "Позвонить и подтвердить доставку", "电话确认送货" },
	{ "Bring samples of the new line", "Привезти образцы новинок", "带新品样品" },
	{ "Prepare a contract draft", "Подготовить проект договора", "准备合同草案" },
	{ "Check the payment on Monday", "Проверить оплату в понедельник", "周一核对付款" },
	{ "Send a merchandiser", "Направить мерчендайзера", "安排理货员" },
};

static const struct t3 pay_partial = { "Partial payment, balance on the next visit",
	"Частичная оплата, остаток при следующем визите", "部分付款，余款下次收取" };
static const struct t3 pay_none = { "Promised to pay by transfer this week",
	"Обещали оплатить переводом на этой неделе", "承诺本周转账付款" };

static const char *tx(const struct t3 *t, int lang)
{
	return lang == 1 ? t->ru : lang == 2 ? t->zh : t->en;
}

/* Enum vocabularies as the registry spells them. */
static const char *const grades[] = { "A", "B", "C", "VIP" };
enum { G_A, G_B, G_C, G_VIP };
static const int grade_w[] = { 20, 30, 47, 3 };
static const char *const statuses[] = { "potential", "new", "active", "problem", "lapsed" };
enum { ST_POTENTIAL, ST_NEW, ST_ACTIVE, ST_PROBLEM, ST_LAPSED };
static const int status_w[] = { 10, 12, 60, 8, 10 };
static const char *const natures[] = { "individual", "retailer", "specialty_store", "supermarket",
	"chain", "mail_order", "wholesaler", "dealer", "manufacturer", "government", "institution" };
enum { N_INDIVIDUAL, N_RETAILER, N_GOVERNMENT = 9, N_INSTITUTION = 10 };
static const int nature_w[] = { 5, 22, 12, 10, 5, 3, 12, 8, 5, 2, 6 };
static const char *const sizes[] = { "large", "medium", "small" };

/* ---------------------------------------------------------------- strings */

static const char *wd(const struct w *x, int nat)
{
	return nat && x->n ? x->n : x->l;
}

static const struct w *lpick(rng *r, const struct list *l)
{
	return &l->v[below(r, (uint32_t)l->n)];
}

static void cat(char *dst, size_t n, const char *s)
{
	size_t k = strlen(dst), m = strlen(s);
	if (k + m >= n)
		m = n - 1 - k;
	memcpy(dst + k, s, m);
	dst[k + m] = '\0';
}

/* In the pattern '#' becomes a random digit, '%' a non-zero one, '^' one of 0-4. */
static void digits(rng *r, const char *pat, char *out, size_t n)
{
	size_t k = 0;
	for (; *pat && k + 1 < n; pat++)
		out[k++] = *pat == '#' ? (char)('0' + below(r, 10)) :
			   *pat == '%' ? (char)('1' + below(r, 9)) :
			   *pat == '^' ? (char)('0' + below(r, 5)) : *pat;
	out[k] = '\0';
}

/* Latin text folded to lower-case ASCII: "Müller" -> "mueller". */
static void fold(const char *s, char *out, size_t n)
{
	static const struct { const char *u, *a; } map[] = {
		{ "ä", "ae" }, { "ö", "oe" }, { "ü", "ue" }, { "Ä", "ae" }, { "Ö", "oe" }, { "Ü", "ue" },
		{ "ß", "ss" }, { "é", "e" }, { "è", "e" }, { "ê", "e" }, { "ë", "e" }, { "É", "e" },
		{ "à", "a" }, { "â", "a" }, { "á", "a" }, { "ã", "a" }, { "Á", "a" }, { "ç", "c" },
		{ "Ç", "c" }, { "î", "i" }, { "ï", "i" }, { "í", "i" }, { "ı", "i" }, { "İ", "i" },
		{ "ô", "o" }, { "ó", "o" }, { "õ", "o" }, { "ò", "o" }, { "û", "u" }, { "ú", "u" },
		{ "ù", "u" }, { "ñ", "n" }, { "ł", "l" }, { "Ł", "l" }, { "ś", "s" }, { "Ś", "s" },
		{ "ş", "s" }, { "Ş", "s" }, { "ż", "z" }, { "Ż", "z" }, { "ź", "z" }, { "ć", "c" },
		{ "ń", "n" }, { "ą", "a" }, { "ę", "e" }, { "ğ", "g" }, { "Ö", "o" }, { "Ç", "c" },
		{ "ē", "e" }, { "Á", "a" }, { "Ó", "o" }, { "Ú", "u" },
	};
	size_t k = 0;
	while (*s && k + 1 < n) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x80) {
			out[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			s++;
			continue;
		}
		int hit = 0;
		for (int i = 0; i < NEL(map) && !hit; i++) {
			size_t m = strlen(map[i].u);
			if (strncmp(s, map[i].u, m) == 0) {
				for (const char *a = map[i].a; *a && k + 1 < n; a++)
					out[k++] = *a;
				s += m;
				hit = 1;
			}
		}
		if (!hit) {	/* skip one unknown UTF-8 character */
			s++;
			while ((*s & 0xc0) == 0x80)
				s++;
		}
	}
	out[k] = '\0';
}

/* "Müller & Söhne GmbH" -> "mueller-soehne-gmbh", at most max bytes. */
static void slug(const char *s, char *out, size_t max)
{
	char f[256];
	size_t k = 0;
	fold(s, f, sizeof f);
	for (const char *p = f; *p && k + 1 < max; p++) {
		int ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
		if (ok)
			out[k++] = *p;
		else if (k > 0 && out[k - 1] != '-')
			out[k++] = '-';
	}
	while (k > 0 && out[k - 1] == '-')
		k--;
	out[k] = '\0';
}

struct nctx {
	const char *F, *B, *L, *M, *C;
	int N;
};

/* Expand {F} {B} {L} {M} {C} {N} in a name pattern. */
static void expand(const char *pat, const struct nctx *c, char *out, size_t n)
{
	out[0] = '\0';
	while (*pat) {
		if (pat[0] == '{' && pat[1] && pat[2] == '}') {
			char num[16];
			const char *v = "";
			switch (pat[1]) {
			case 'F': v = c->F; break;
			case 'B': v = c->B; break;
			case 'L': v = c->L; break;
			case 'M': v = c->M; break;
			case 'C': v = c->C; break;
			case 'N': snprintf(num, sizeof num, "%d", c->N); v = num; break;
			}
			cat(out, n, v ? v : "");
			pat += 3;
		} else {
			char one[2] = { *pat++, '\0' };
			cat(out, n, one);
		}
	}
}

struct person {
	char name[160];		/* as displayed */
	char first[64], last[64];	/* Latin, for e-mail addresses */
	int female;
};

static void surname(const struct locale *lc, const struct w *x, int nat, int female, char *out,
		    size_t n)
{
	snprintf(out, n, "%s", wd(x, nat));
	if (!female)
		return;
	size_t k = strlen(out);
	if (lc->fem == 1) {
		cat(out, n, nat && x->n ? "а" : "a");
	} else if (lc->fem == 2 && k >= 3 && (strcmp(out + k - 3, "ski") == 0 ||
					      strcmp(out + k - 3, "cki") == 0 ||
					      (k >= 4 && strcmp(out + k - 4, "ński") == 0))) {
		out[k - 1] = 'a';
	}
}

static void make_person(rng *r, int loc, int nat, struct person *p)
{
	const struct locale *lc = &locales[loc];
	p->female = chance(r, 50);
	const struct w *first = lpick(r, p->female ? &lc->female : &lc->male);
	const struct w *last = lpick(r, &lc->last);
	char l1[64], l1l[64];
	surname(lc, last, nat, p->female, l1, sizeof l1);
	surname(lc, last, 0, p->female, l1l, sizeof l1l);
	if (lc->name_style == 1) {
		/* Chinese: surname first, one- or two-syllable given name */
		const struct w *g2 = chance(r, 40) ? lpick(r, &lc->male) : NULL;
		char given[32], givenl[32];
		snprintf(given, sizeof given, "%s%s", wd(first, nat), g2 ? wd(g2, nat) : "");
		snprintf(givenl, sizeof givenl, "%s%s", first->l, g2 ? g2->l : "");
		if (g2)	/* "Xiao" + "ming" */
			givenl[strlen(first->l)] = (char)(givenl[strlen(first->l)] + ('a' - 'A'));
		snprintf(p->name, sizeof p->name, nat ? "%s%s" : "%s %s", l1, nat ? given : givenl);
		snprintf(p->first, sizeof p->first, "%s", givenl);
		snprintf(p->last, sizeof p->last, "%s", l1l);
		return;
	}
	if (lc->name_style == 2) {
		const struct w *last2 = lpick(r, &lc->last);
		snprintf(p->name, sizeof p->name, "%s %s %s", wd(first, nat), l1, last2->l);
	} else {
		snprintf(p->name, sizeof p->name, "%s %s", wd(first, nat), l1);
	}
	snprintf(p->first, sizeof p->first, "%s", first->l);
	snprintf(p->last, sizeof p->last, "%s", l1l);
}

static void make_address(rng *r, const struct city *c, int nat, char *out, size_t n)
{
	const struct locale *lc = &locales[c->loc];
	char postal[24];
	digits(r, c->postal, postal, sizeof postal);
	const char *street = c->street[below(r, 8)];
	if (nat && lc->nstreet.n)
		street = lpick(r, &lc->nstreet)->n;
	int num = c->loc == L_US ? between(r, 100, 4999) : between(r, 1, chance(r, 80) ? 60 : 240);
	switch (nat ? (c->loc == L_CN ? 9 : 8) : lc->addr) {
	case 0:		/* Russia, Latin */
		if (chance(r, 30))
			snprintf(out, n, "%s, %s, d. %d, str. %d", postal, street, num, between(r, 1, 5));
		else
			snprintf(out, n, "%s, %s, d. %d", postal, street, num);
		break;
	case 8:		/* Russia, Cyrillic */
		if (chance(r, 30))
			snprintf(out, n, "%s, %s, д. %d, стр. %d", postal, street, num, between(r, 1, 5));
		else
			snprintf(out, n, "%s, %s, д. %d", postal, street, num);
		break;
	case 1:		/* China, pinyin */
		snprintf(out, n, "No. %d %s, %s", num * 2 + 1, street, postal);
		break;
	case 9:		/* China, characters */
		snprintf(out, n, "%s%d号，邮编 %s", street, num * 2 + 1, postal);
		break;
	case 3:		/* France */
		snprintf(out, n, "%d%s %s, %s", num, chance(r, 8) ? " bis" : "", street, postal);
		break;
	case 4:		/* Turkey */
		snprintf(out, n, "%s No:%d D:%d, %s", street, num, between(r, 1, 12), postal);
		break;
	case 5: {	/* Brazil (one draw per statement: argument order is unspecified) */
		int house = num * 10 + between(r, 0, 9);
		snprintf(out, n, "%s, %d%s, CEP %s", street, house, chance(r, 30) ? " - loja 2" : "",
			 postal);
		break;
	}
	case 6:		/* USA */
		snprintf(out, n, "%d %s%s, IL %s", num, street, chance(r, 20) ? ", Suite 200" : "", postal);
		break;
	default:	/* Germany, Poland, Spain, Italy */
		snprintf(out, n, "%s %d, %s", street, num, postal);
		break;
	}
}

static void money(int64_t minor, char out[32])
{
	snprintf(out, 32, "%lld.%02lld", (long long)(minor / 100), (long long)(minor % 100));
}

/* ------------------------------------------------------------- the world */

struct territory {
	char name[80];
	char prefix[24];	/* code prefix: "MOW1" */
	const struct city *c;
	char rep[160];
	int first, count;	/* customers [first, first + count) */
	int plans_today, plans_later;
};

struct cust {
	char id[33];
	double lat, lon;
	int terr, route_seq, nature;
	uint8_t grade, status, nat, lang;
	int c0, nc;		/* contacts [c0, c0 + nc) */
	int64_t demand;		/* monthly demand, minor units */
	char domain[48];
};

struct vspec {
	long day;
	int minute, cust, idx;
};

static struct {
	fieldsync_store *s;
	fieldsync_rec *rec;
	int pending, quiet, progress;
	long long written;
	struct timespec t0, tlast;
	/* things to free on the way out */
	struct cust *cust;
	char (*contact_id)[33];
	struct territory *terr;
	struct vspec *vs;
	int *cum;
	uint64_t *names;	/* hash set of the customer names so far */
	size_t nmask;
} G;

static void cleanup(void)
{
	fieldsync_rec_free(G.rec);
	G.rec = NULL;
	fieldsync_close(G.s);	/* rolls back anything uncommitted */
	G.s = NULL;
	free(G.cust);
	free(G.contact_id);
	free(G.terr);
	free(G.vs);
	free(G.cum);
	free(G.names);
	G.names = NULL;
	G.cust = NULL;
	G.contact_id = NULL;
	G.terr = NULL;
	G.vs = NULL;
	G.cum = NULL;
}

/* An engine error: report it and exit with the CLI's code for it. */
static void die_engine(int rc, const char *what)
{
	if (G.progress)
		fputc('\n', stderr);
	fprintf(stderr, "gen: %s: %s\n", what, *fieldsync_errmsg() ? fieldsync_errmsg() :
		fieldsync_strerror(rc));
	cleanup();
	exit(fieldsync_exit_code(rc));
}

static void die_usage(const char *fmt, ...)
{
	va_list ap;
	fputs("gen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(gen --help for usage)\n", stderr);
	cleanup();
	exit(2);
}

static double elapsed(const struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

static void rec_begin(const char *table)
{
	int rc = fieldsync_rec_new(table, &G.rec);
	if (rc)
		die_engine(rc, table);
}

static void set(const char *field, const char *value)
{
	int rc = fieldsync_rec_set(G.rec, field, value);
	if (rc)
		die_engine(rc, field);
}

static void setn(const char *field, long long v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%lld", v);
	set(field, buf);
}

static void setm(const char *field, int64_t minor)
{
	char buf[32];
	money(minor, buf);
	set(field, buf);
}

static void setd(const char *field, long day)
{
	char buf[11];
	fmt_date(day, buf);
	set(field, buf);
}

static void setll(const char *field, double v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%.6f", v);
	set(field, buf);
}

/* Insert the record being built; commit every BATCH records. */
static void rec_insert(const char *what, char id[33])
{
	char tmp[33];
	int rc = fieldsync_insert(G.s, G.rec, id ? id : tmp);
	if (rc)
		die_engine(rc, what);
	fieldsync_rec_free(G.rec);
	G.rec = NULL;
	G.written++;
	if (++G.pending >= BATCH) {
		if ((rc = fieldsync_commit(G.s)) || (rc = fieldsync_begin(G.s)))
			die_engine(rc, "commit");
		G.pending = 0;
		if (G.progress && elapsed(&G.tlast) >= 1.0) {
			clock_gettime(CLOCK_MONOTONIC, &G.tlast);
			fprintf(stderr, "\rgen: %lld records, %.0f s ...", G.written, elapsed(&G.t0));
		}
	}
}

/* ----------------------------------------------------------- positions */

static const double KM_LAT = 111.32;

/* Points that would be in the water near a few coastal city centres. */
static int in_water(const struct city *c, double lat, double lon)
{
	if (!strcmp(c->code, "CHI"))	/* Lake Michigan */
		return lon > -87.615 - 0.40 * (lat - 41.88);
	if (!strcmp(c->code, "LED"))	/* Gulf of Finland */
		return lon < 30.20 && lat > 59.80 && lat < 60.10;
	if (!strcmp(c->code, "IST"))	/* Sea of Marmara */
		return lon < 29.02 ? lat < 40.975 : lat < 40.985 - 0.45 * (lon - 29.02);
	return 0;
}

static void place(uint64_t seed, int i, const struct city *c, double *lat, double *lon)
{
	rng r;
	double kx = KM_LAT * dcos(c->lat * 3.14159265358979323846 / 180.0);
	rseed(&r, seed, S_POS, (uint64_t)i);
	for (int tries = 0;; tries++) {
		double dy = gauss(&r) * 8.0, dx = gauss(&r) * 8.0;
		if (dx * dx + dy * dy > 30.0 * 30.0 && tries < 50)
			continue;
		*lat = c->lat + dy / KM_LAT;
		*lon = c->lon + dx / kx;
		if (!in_water(c, *lat, *lon) || tries >= 50)
			return;
	}
}

/* Hilbert-curve index of (x, y) in a 2^16 grid. */
static uint64_t hilbert(uint32_t x, uint32_t y)
{
	uint64_t d = 0;
	for (uint32_t s = 1u << 15; s > 0; s >>= 1) {
		uint32_t rx = (x & s) > 0, ry = (y & s) > 0;
		d += (uint64_t)s * s * ((3 * rx) ^ ry);
		if (ry == 0) {
			if (rx == 1) {
				x = s - 1 - (x & (s - 1));
				y = s - 1 - (y & (s - 1));
			}
			uint32_t t = x;
			x = y;
			y = t;
		}
		x &= s - 1;
		y &= s - 1;
	}
	return d;
}

struct hk {
	uint64_t h;
	int i;
};

static int hk_cmp(const void *a, const void *b)
{
	const struct hk *x = a, *y = b;
	return x->h < y->h ? -1 : x->h > y->h ? 1 : x->i - y->i;
}

/* The standing route order of a territory: a greedy nearest-neighbour tour
 * from the city centre (Hilbert order for very large territories). */
static int route_order(struct territory *t, struct cust *cs)
{
	int n = t->count;
	if (n == 0)
		return 0;
	double kx = KM_LAT * dcos(t->c->lat * 3.14159265358979323846 / 180.0);
	if (n > 5000) {
		struct hk *h = malloc((size_t)n * sizeof *h);
		if (!h)
			return -1;
		for (int k = 0; k < n; k++) {
			const struct cust *c = &cs[t->first + k];
			double x = (c->lon - t->c->lon) * kx + 32.0, y = (c->lat - t->c->lat) * KM_LAT + 32.0;
			uint32_t gx = (uint32_t)(x < 0 ? 0 : x > 64 ? 65535 : x / 64.0 * 65535);
			uint32_t gy = (uint32_t)(y < 0 ? 0 : y > 64 ? 65535 : y / 64.0 * 65535);
			h[k].h = hilbert(gx, gy);
			h[k].i = k;
		}
		qsort(h, (size_t)n, sizeof *h, hk_cmp);
		for (int k = 0; k < n; k++)
			cs[t->first + h[k].i].route_seq = (k + 1) * 10;
		free(h);
		return 0;
	}
	double *x = malloc((size_t)n * 2 * sizeof *x);
	if (!x)
		return -1;
	double *y = x + n;
	for (int k = 0; k < n; k++) {
		x[k] = (cs[t->first + k].lon - t->c->lon) * kx;
		y[k] = (cs[t->first + k].lat - t->c->lat) * KM_LAT;
		cs[t->first + k].route_seq = 0;
	}
	double px = 0, py = 0;
	for (int step = 0; step < n; step++) {
		int best = -1;
		double bd = 0;
		for (int k = 0; k < n; k++) {
			if (cs[t->first + k].route_seq)
				continue;
			double d = (x[k] - px) * (x[k] - px) + (y[k] - py) * (y[k] - py);
			if (best < 0 || d < bd) {
				best = k;
				bd = d;
			}
		}
		cs[t->first + best].route_seq = (step + 1) * 10;
		px = x[best];
		py = y[best];
	}
	free(x);
	return 0;
}

/* ----------------------------------------------------------- customers */

static int64_t round_to(int64_t v, int64_t unit)
{
	return unit > 1 ? (v + unit / 2) / unit * unit : v;
}

/* Add a name to the set; 0 if it was there already. */
static int name_add(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	h = mix64(h) | 1;
	for (size_t i = (size_t)h & G.nmask;; i = (i + 1) & G.nmask) {
		if (G.names[i] == h)
			return 0;
		if (G.names[i] == 0) {
			G.names[i] = h;
			return 1;
		}
	}
}

/* A chain's second shop gets " No. 2", as reps tell them apart. */
static void unique_name(char *name, size_t n, const struct w *branch, int nat)
{
	char base[512], suffix[64];
	if (name_add(name))
		return;
	snprintf(base, sizeof base, "%s", name);
	for (int k = 2;; k++) {
		struct nctx c = { NULL, NULL, NULL, NULL, NULL, k };
		expand(wd(branch, nat), &c, suffix, sizeof suffix);
		snprintf(name, n, "%.400s%s", base, suffix);
		if (name_add(name))
			return;
	}
}

static void gen_customer(uint64_t seed, int i, struct territory *t, int tseq, struct cust *c)
{
	const struct city *ci = t->c;
	const struct locale *lc = &locales[ci->loc];
	rng r;
	char buf[512], latin[512], tmp[256];
	rseed(&r, seed, S_CUST, (uint64_t)i);

	c->grade = (uint8_t)weighted(&r, grade_w, NEL(grade_w));
	c->status = (uint8_t)weighted(&r, status_w, NEL(status_w));
	if ((c->grade == G_VIP || c->grade == G_A) && c->status == ST_POTENTIAL)
		c->status = ST_ACTIVE;
	c->nature = weighted(&r, nature_w, NEL(nature_w));
	if (c->nature == N_INDIVIDUAL && (c->grade == G_VIP || c->grade == G_A))
		c->nature = N_RETAILER;
	c->nat = (uint8_t)(lc->nstreet.n && chance(&r, 25));
	c->lang = (uint8_t)(c->nat ? lc->lang : 0);
	int nat = c->nat;
	int potential = c->status == ST_POTENTIAL;
	int public_body = c->nature == N_GOVERNMENT || c->nature == N_INSTITUTION;

	/* name, legal form, web domain */
	struct person owner;
	make_person(&r, ci->loc, nat, &owner);
	const struct w *legal;
	if (c->nature == N_INDIVIDUAL) {
		snprintf(buf, sizeof buf, "%s", owner.name);
		snprintf(latin, sizeof latin, "%s %s", owner.first, owner.last);
		legal = &lc->legal_ind;
	} else {
		const struct w *F = lpick(&r, &lc->fancy), *B = lpick(&r, &lc->biz);
		const struct w *L = lpick(&r, &lc->last), *M = lpick(&r, &lc->last);
		const struct w *pat = public_body ? lpick(&r, &lc->inst) : lpick(&r, &lc->pat);
		struct nctx nn = { wd(F, nat), wd(B, nat), wd(L, nat), wd(M, nat),
				   nat && ci->nname ? ci->nname : ci->name, between(&r, 1, 199) };
		struct nctx nl = { F->l, B->l, L->l, M->l, ci->name, nn.N };
		expand(wd(pat, nat), &nn, buf, sizeof buf);
		expand(pat->l, &nl, latin, sizeof latin);
		static const int lw[] = { 60, 25, 10, 5, 3 };
		legal = public_body ? &lc->legal_gov : &lc->legal.v[weighted(&r, lw, lc->legal.n)];
	}
	slug(latin, tmp, 40);
	snprintf(c->domain, sizeof c->domain, "%.40s.%s", tmp, lc->tld);

	if (c->nature == N_INDIVIDUAL)
		name_add(buf);	/* people may share a name */
	else
		unique_name(buf, sizeof buf, &lc->branch, nat);
	rec_begin("customer");
	set("name", buf);
	snprintf(buf, sizeof buf, "%s-%06d", t->prefix, tseq);
	set("code", buf);
	set("legal_form", wd(legal, nat));
	make_address(&r, ci, nat, buf, sizeof buf);
	set("address", buf);
	set("city", ci->name);
	set("region", ci->region);
	setll("lat", c->lat);
	setll("lon", c->lon);
	if (chance(&r, potential ? 70 : 95)) {
		digits(&r, chance(&r, 75) ? ci->phone : lc->mobile, buf, sizeof buf);
		set("phone", buf);
	}
	if (c->nature == N_INDIVIDUAL) {
		if (chance(&r, 60)) {
			const char *dom = lc->mail[below(&r, 3)];
			if (!strcmp(dom, "qq.com"))
				snprintf(buf, sizeof buf, "%u@qq.com", 10000000 + below(&r, 899999999));
			else {
				char f[64], l[64];
				fold(owner.first, f, sizeof f);
				fold(owner.last, l, sizeof l);
				snprintf(buf, sizeof buf, "%s.%s%d@%s", f, l, between(&r, 1, 99), dom);
			}
			set("email", buf);
		}
		c->domain[0] = '\0';
	} else {
		static const char *const box[] = { "info", "sales", "office", "order", "zakaz" };
		if (chance(&r, potential ? 50 : 85)) {
			const char *b = box[below(&r, c->lang == 1 || ci->loc == L_RU ? 5 : 4)];
			snprintf(buf, sizeof buf, "%s@%s", b, c->domain);
			set("email", buf);
		}
		if (chance(&r, public_body ? 40 : potential ? 40 : 65)) {
			snprintf(buf, sizeof buf, "https://www.%s", c->domain);
			set("website", buf);
		}
	}
	set("territory", t->name);
	set("owner_rep", t->rep);
	setn("route_seq", c->route_seq);
	set("nature", natures[c->nature]);
	set("grade", grades[c->grade]);
	set("status", statuses[c->status]);

	static const int size_w[4][3] = { { 45, 45, 10 }, { 15, 55, 30 }, { 3, 27, 70 }, { 80, 20, 0 } };
	int sz = c->nature == N_INDIVIDUAL ? 2 : weighted(&r, size_w[c->grade], 3);
	set("size", sizes[sz]);
	static const int prio_w[4][3] = { { 70, 30, 0 }, { 10, 70, 20 }, { 0, 20, 80 }, { 100, 0, 0 } };
	set("priority", grades[weighted(&r, prio_w[c->grade], 3)]);

	if (!potential) {
		static const int base[] = { 0, 3, 4, 2, 2 };
		int loy = base[c->status] + between(&r, -1, 1) + (c->grade == G_VIP || c->grade == G_A);
		int sat = (c->status == ST_PROBLEM ? 2 : 4) + between(&r, -1, 1);
		setn("loyalty", loy < 1 ? 1 : loy > 5 ? 5 : loy);
		setn("satisfaction", sat < 1 ? 1 : sat > 5 ? 5 : sat);
		static const char *const ratings[] = { "AA", "A", "BBB", "BB", "B", "CCC" };
		static const int rw[5][6] = { { 0 }, { 0, 20, 50, 30, 0, 0 }, { 15, 35, 30, 15, 5, 0 },
					      { 0, 0, 0, 30, 40, 30 }, { 0, 5, 30, 40, 25, 0 } };
		set("credit_rating", ratings[weighted(&r, rw[c->status], 6)]);
		static const char *const terms[4][4] = {
			{ "net 30", "net 45", "2/10 net 30", "net 60" },
			{ "net 15", "net 30", "cash on delivery", "net 14" },
			{ "prepayment", "cash on delivery", "net 7", "net 15" },
			{ "net 60", "net 45", "net 90", "2/10 net 30" },
		};
		set("payment_terms", c->status == ST_PROBLEM ? "prepayment" : terms[c->grade][below(&r, 4)]);
		static const char *const pkg[] = { "Key account", "Wholesale 2", "Standard", "VIP contract" };
		set("price_package", c->nature == 6 || c->nature == 7 ? "Distributor" : pkg[c->grade]);
	}
	static const int dlo[] = { 8000, 2000, 200, 30000 }, dhi[] = { 40000, 10000, 2500, 150000 };
	int64_t eur = between(&r, dlo[c->grade], dhi[c->grade]);
	int64_t units = (int64_t)((double)eur * ci->cur);
	c->demand = round_to(units, units >= 100000 ? 1000 : 10) * 100;
	if (!potential || chance(&r, 50))
		setm("monthly_demand", c->demand);

	/* products, suppliers, competitors, notes */
	int np = between(&r, 2, 4), used = 0;
	buf[0] = '\0';
	for (int k = 0; k < np; k++) {
		int cat_i = (int)below(&r, (uint32_t)NEL(categories));
		if (used & (1 << cat_i))
			continue;
		used |= 1 << cat_i;
		if (buf[0])
			cat(buf, sizeof buf, ", ");
		cat(buf, sizeof buf, categories[cat_i]);
	}
	set("main_products", buf);
	if (chance(&r, 60)) {
		int a = (int)below(&r, 5), b = (int)below(&r, 5);
		snprintf(buf, sizeof buf, "%s%s%s", lc->suppliers[a], a != b ? ", " : "",
			 a != b ? lc->suppliers[b] : "");
		set("suppliers", buf);
	}
	if (chance(&r, 70)) {
		int a = (int)below(&r, NEL(competitors)), b = (int)below(&r, NEL(competitors));
		snprintf(buf, sizeof buf, "%s%s%s", competitors[a], a != b ? ", " : "",
			 a != b ? competitors[b] : "");
		set("competitors", buf);
	}
	if (chance(&r, 30))
		set("notes", PICK(&r, cust_notes));
	rec_insert("customer", c->id);
}

static void gen_contact(uint64_t seed, int k, const struct city *ci, const struct cust *c, int nth)
{
	rng r;
	char buf[256];
	struct person p;
	rseed(&r, seed, S_CONTACT, (uint64_t)k);
	make_person(&r, ci->loc, c->nat, &p);
	int role = nth == 0 ? 0 : chance(&r, 10) ? 0 : chance(&r, 50) ? 1 : 2;
	rec_begin("contact");
	set("customer_id", c->id);
	set("name", p.name);
	set("role", roles[role]);
	if (chance(&r, 90))
		set("title", tx(&titles[role][c->nature == N_INDIVIDUAL && role == 0 ? 0 : below(&r, 4)],
				c->lang));
	if (chance(&r, 85)) {
		digits(&r, locales[ci->loc].mobile, buf, sizeof buf);
		set("phone", buf);
	}
	if (c->domain[0] && chance(&r, 65)) {
		char f[64], l[64];
		fold(p.first, f, sizeof f);
		fold(p.last, l, sizeof l);
		snprintf(buf, sizeof buf, "%s.%s@%s", f, l, c->domain);
		for (char *q = buf; *q; q++)
			if (*q == ' ' || *q == '\'')
				*q = '-';
		set("email", buf);
	}
	if (chance(&r, 50)) {
		int y = between(&r, 1958, 2001), m = between(&r, 1, 12);
		setd("birthday", days_from_civil(y, m, between(&r, 1, days_in_month(y, m))));
	}
	if (chance(&r, 15))
		set("notes", PICK(&r, contact_notes));
	rec_insert("contact", G.contact_id[k]);
}

/* -------------------------------------------------------------- visits */

static int vs_cmp(const void *a, const void *b)
{
	const struct vspec *x = a, *y = b;
	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	if (x->minute != y->minute)
		return x->minute - y->minute;
	return x->idx - y->idx;
}

static long weekday_near(rng *r, long lo, long hi)
{
	long d = lo;
	for (int k = 0; k < 20; k++) {
		d = lo + (long)below(r, (uint32_t)(hi - lo + 1));
		if (!is_weekend(d))
			break;
	}
	return d;
}

static long next_weekday(long d)
{
	while (is_weekend(d))
		d++;
	return d;
}

struct counts {
	long long customers, contacts, visits, lines, payments, plans, plans_today;
};

static void gen_visit(uint64_t seed, const struct vspec *v, long today, struct counts *n)
{
	const struct cust *c = &G.cust[v->cust];
	const struct city *ci = G.terr[c->terr].c;
	int lang = c->lang;
	rng r;
	char buf[1024], vid[33];
	static const int vw[] = { 85, 10, 5 };
	rseed(&r, seed, S_VISIT, (uint64_t)v->idx);
	int st = weighted(&r, vw, 3);
	int planned = chance(&r, 90);
	int contact = c->nc && chance(&r, 60) ? c->c0 + (chance(&r, 70) ? 0 : (int)below(&r, (uint32_t)c->nc)) : -1;

	rec_begin("visit");
	set("customer_id", c->id);
	set("status", st == 0 ? "done" : st == 1 ? "missed" : "cancelled");
	setd("planned_date", v->day);
	if (planned) {
		snprintf(buf, sizeof buf, "%02d:%02d", v->minute / 60, v->minute % 60);
		set("planned_time", buf);
	}
	if (planned || chance(&r, 50))
		set("purpose", c->status == ST_POTENTIAL && chance(&r, 50) ? tx(&first_visit, lang) :
			       tx(&purposes[below(&r, NEL(purposes))], lang));
	if (contact >= 0)
		set("contact_id", G.contact_id[contact]);

	int nlines = 0, pay = 0;
	int64_t total = 0;
	struct { int prod, qty; int64_t price; } lines[4];
	if (st == 0) {
		int minute = v->minute + between(&r, -10, 25);
		int dur = between(&r, 10, c->grade == G_VIP || c->grade == G_A ? 120 : 60);
		if (minute < 0)
			minute = 0;
		if (minute + dur > 1439)
			dur = 1439 - minute;
		int sec = (int)below(&r, 60);
		fmt_utc(v->day, minute, sec, ci->tz, ci->dst, buf);
		set("check_in", buf);
		fmt_utc(v->day, minute + dur, (sec + (int)below(&r, 60)) % 60, ci->tz, ci->dst, buf);
		set("check_out", buf);
		if (chance(&r, 90)) {
			setll("lat", c->lat + (unif(&r) - 0.5) * 0.0008);
			setll("lon", c->lon + (unif(&r) - 0.5) * 0.0012);
		}
		if (c->nc && chance(&r, 75)) {
			int m = contact >= 0 ? contact : c->c0 + (int)below(&r, (uint32_t)c->nc);
			set("met_contact_id", G.contact_id[m]);
		} else if (chance(&r, 40)) {
			struct person p;
			make_person(&r, ci->loc, c->nat, &p);
			set("met_name", p.name);
		}
		if (chance(&r, 80)) {
			int a = (int)below(&r, NEL(topics)), b = (int)below(&r, NEL(topics));
			if (a == b || chance(&r, 40))
				snprintf(buf, sizeof buf, lang == 1 ? "Обсудили %s." : lang == 2 ? "讨论了%s。" :
					 "Discussed %s.", tx(&topics[a], lang));
			else
				snprintf(buf, sizeof buf, lang == 1 ? "Обсудили %s и %s." :
					 lang == 2 ? "讨论了%s和%s。" : "Discussed %s and %s.",
					 tx(&topics[a], lang), tx(&topics[b], lang));
			set("discussed", buf);
		}
		/* money on the visit: ~30% with an order, ~25% with a collection */
		int buys = c->status != ST_POTENTIAL;
		if (buys && chance(&r, 33)) {
			static const int lw[] = { 40, 30, 20, 10 };
			static const int qlo[] = { 5, 2, 1, 10 }, qhi[] = { 40, 20, 10, 100 };
			static const int disc[] = { 80, 40, 0, 120 };	/* permille by grade */
			nlines = weighted(&r, lw, 4) + 1;
			double drift = 1.0 - 0.07 * (double)(today - v->day) / 365.0;
			for (int k = 0; k < nlines; k++) {
				int p, dup;
				do {
					p = (int)below(&r, NEL(products));
					dup = 0;
					for (int j = 0; j < k; j++)
						dup |= lines[j].prod == p;
				} while (dup);
				double price = products[p].eur_cents * ci->cur * drift *
					       (1000 - disc[c->grade]) / 1000.0;
				lines[k].prod = p;
				lines[k].qty = between(&r, qlo[c->grade], qhi[c->grade]);
				lines[k].price = (int64_t)(price + 0.5);
				if (lines[k].price < 1)
					lines[k].price = 1;
				total += lines[k].qty * lines[k].price;
			}
		}
		pay = buys && chance(&r, 28);
		if (nlines)
			set("outcome", tx(&outcomes_order[below(&r, NEL(outcomes_order))], lang));
		else if (pay && chance(&r, 60))
			set("outcome", tx(&outcome_paid, lang));
		else
			set("outcome", tx(&outcomes_plain[below(&r, NEL(outcomes_plain))], lang));
		if (chance(&r, c->status == ST_PROBLEM ? 50 : 20)) {
			int k = (int)below(&r, NEL(problems));
			set("problem", tx(&problems[k][0], lang));
			if (chance(&r, 85))
				set("countermeasure", tx(&problems[k][1], lang));
		}
		if (chance(&r, 40))
			set("follow_up", tx(&follow_ups[below(&r, NEL(follow_ups))], lang));
		if (chance(&r, 50)) {
			static const int gap[] = { 7, 14, 14, 21, 28, 30, 45, 60 };
			setd("next_date", next_weekday(v->day + PICK(&r, gap)));
		}
	} else if (st == 1 || chance(&r, 70)) {
		set("miss_reason", tx(&miss_reasons[below(&r, NEL(miss_reasons))], lang));
	}
	rec_insert("visit", vid);
	n->visits++;

	for (int k = 0; k < nlines; k++) {
		rec_begin("order_line");
		set("visit_id", vid);
		set("customer_id", c->id);
		set("product", products[lines[k].prod].name);
		setn("quantity", lines[k].qty);
		setm("unit_price", lines[k].price);
		setm("amount", lines[k].qty * lines[k].price);
		rec_insert("order_line", NULL);
		n->lines++;
	}
	if (pay) {
		int64_t recv = total && chance(&r, 60) ? total :
			       round_to((int64_t)((double)c->demand * (0.1 + 0.5 * unif(&r))), 100);
		if (recv < 100)
			recv = 100;
		/* old debts have mostly been settled; recent ones are still open */
		static const int pw_old[] = { 96, 3, 1 }, pw_new[] = { 62, 23, 15 };
		int kind = weighted(&r, today - v->day > 90 ? pw_old : pw_new, 3);
		int64_t got = kind == 0 ? recv : kind == 1 ? recv * between(&r, 30, 90) / 100 : 0;
		static const char *const methods[] = { "transfer", "cash", "card", "cheque", "other" };
		static const int mw[] = { 45, 30, 15, 7, 3 };
		rec_begin("payment");
		set("customer_id", c->id);
		set("visit_id", vid);
		setd("date", v->day);
		setm("receivable", recv);
		setm("received", got);
		if (got)
			set("method", methods[weighted(&r, mw, 5)]);
		if (kind == 1)
			set("note", tx(&pay_partial, lang));
		else if (kind == 2)
			set("note", tx(&pay_none, lang));
		rec_insert("payment", NULL);
		n->payments++;
	}
}

static void gen_plan(rng *r, const struct cust *c, long day, int minute, int seq)
{
	char buf[16];
	rec_begin("visit");
	set("customer_id", c->id);
	set("status", "planned");
	setd("planned_date", day);
	snprintf(buf, sizeof buf, "%02d:%02d", minute / 60, minute % 60);
	set("planned_time", buf);
	if (seq > 0)
		setn("route_seq", seq);
	if (c->status == ST_POTENTIAL)
		set("purpose", tx(&first_visit, c->lang));
	else if (c->status == ST_PROBLEM && chance(r, 60))
		set("purpose", tx(&purposes[chance(r, 50) ? 6 : 2], c->lang));
	else
		set("purpose", tx(&purposes[below(r, NEL(purposes))], c->lang));
	if (c->nc && chance(r, 80))
		set("contact_id", G.contact_id[c->c0 + (chance(r, 75) ? 0 : (int)below(r, (uint32_t)c->nc))]);
	rec_insert("plan", NULL);
}

static int seq_cmp(const void *a, const void *b)
{
	int x = G.cust[*(const int *)a].route_seq, y = G.cust[*(const int *)b].route_seq;
	return x - y;
}

/* ----------------------------------------------------------------- CLI */

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: gen --db PATH [--seed N] [--territories N | --territory NAME[,NAME...]]\n"
		"           [--customers N] [--contacts N] [--visits N] [--plans N]\n"
		"           [--date YYYY-MM-DD] [--json] [--quiet]\n\n"
		"Fills a fieldsync store with realistic, deterministic demo data: customers\n"
		"around real cities, their contacts, three years of visit history with orders\n"
		"and collections, and the day's route plans. The same --seed and sizes give\n"
		"the same content (record ids are random by design).\n\n"
		"  --db PATH          store to write (created if missing; must not hold these codes)\n"
		"  --seed N           random seed (default 1)\n"
		"  --territories N    the first N built-in cities, named MOW-1, LED-1, ... (default 3)\n"
		"  --territory A,B    territory names, mapped onto the cities in order\n"
		"  --customers N      customers in all (default 200)\n"
		"  --contacts N       contacts in all, 0-4 per customer (default customers x 2)\n"
		"  --visits N         past visits in all (default customers x 10)\n"
		"  --plans N          visits planned on --date per territory (default 12), plus\n"
		"                     about N/3 per territory over the next two weeks\n"
		"  --date YYYY-MM-DD  the day of the plans; history is the 3 years before (default today)\n"
		"  --json             print a JSON summary on stdout\n"
		"  --quiet            no summary on stderr\n\n"
		"Cities: ");
	for (int i = 0; i < NCITIES; i++)
		fprintf(fp, "%s%s (%s)", i ? ", " : "", cities[i].code, cities[i].name);
	fprintf(fp, ".\n");
}

static long long parse_count(const char *opt, const char *s, long long max)
{
	long long v = 0;
	const char *p = s;
	if (!*p)
		die_usage("%s: expected a number, got ''", opt);
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			die_usage("%s: '%s' is not a whole number 0..%lld", opt, s, max);
		v = v * 10 + (*p - '0');
		if (v > max)
			die_usage("%s: %s is more than %lld", opt, s, max);
	}
	return v;
}

static uint64_t parse_seed(const char *s)
{
	uint64_t v = 0;
	if (!*s)
		die_usage("--seed: expected a number, got ''");
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			die_usage("--seed: '%s' is not a whole number 0..18446744073709551615", s);
		uint64_t d = (uint64_t)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			die_usage("--seed: %s is too large", s);
		v = v * 10 + d;
	}
	return v;
}

static void json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(fp, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(fp, "\\u%04x", ch);
		else
			fputc(ch, fp);
	}
	fputc('"', fp);
}

int main(int argc, char **argv)
{
	const char *db = NULL, *tnames = NULL, *date = NULL;
	uint64_t seed = 1;
	long long nterr = -1, ncust = 200, ncont = -1, nvis = -1, nplans = 12;
	int json = 0;

	static const char *const known[] = { "db", "seed", "territories", "territory", "customers", "contacts",
					     "visits", "plans", "date" };
	struct kit_args o;
	int w;
	kit_args_init(&o, "gen", NULL, argc, argv, 1, NULL, NULL);
	while ((w = kit_next(&o)) > 0) {
		if (w == 2 && strcmp(o.word, "-h"))
			die_usage("unexpected argument '%s'", o.word);
		if (w == 2 || kit_flag(&o, "help")) {
			usage(stdout);
			return 0;
		}
		if (kit_flag(&o, "json")) {
			json = 1;
			continue;
		}
		if (kit_flag(&o, "quiet")) {
			G.quiet = 1;
			continue;
		}
		int k = 0;
		while (k < NEL(known) && !kit_is(&o, known[k]))
			k++;
		const char *val = k < NEL(known) ? kit_value(&o) : NULL;
		if (!val) {
			kit_unknown(&o);
			cleanup();
			return 2;
		}
		char opt[80];
		snprintf(opt, sizeof opt, "--%s", known[k]);
		switch (k) {
		case 0: db = val; break;
		case 1: seed = parse_seed(val); break;
		case 2: nterr = parse_count(opt, val, MAX_TERRITORIES); break;
		case 3: tnames = val; break;
		case 4: ncust = parse_count(opt, val, MAX_CUSTOMERS); break;
		case 5: ncont = parse_count(opt, val, 4 * MAX_CUSTOMERS); break;
		case 6: nvis = parse_count(opt, val, MAX_VISITS); break;
		case 7: nplans = parse_count(opt, val, MAX_PLANS); break;
		case 8: date = val; break;
		}
	}
	if (o.bad) {
		cleanup();
		return 2;
	}
	if (!db || !*db)
		die_usage("--db PATH is required");
	if (tnames && nterr >= 0)
		die_usage("--territories and --territory exclude each other");
	if (nterr == 0)
		die_usage("--territories: need at least 1");
	if (ncont < 0)
		ncont = ncust * 2;
	if (nvis < 0)
		nvis = ncust * 10 > MAX_VISITS ? MAX_VISITS : ncust * 10;
	if (ncont > ncust * 4)
		die_usage("--contacts: %lld is more than 4 per customer (%lld)", ncont, ncust * 4);
	if (nvis > 0 && ncust == 0)
		die_usage("--visits: there are no customers to visit");
	char today_buf[11];
	long today;
	if (!date) {
		fieldsync_local_date(today_buf);
		date = today_buf;
	}
	if (parse_date(date, &today))
		die_usage("--date: '%s' is not a date YYYY-MM-DD (1905..2900)", date);

	/* territories */
	int nt = 0;
	G.terr = calloc(MAX_TERRITORIES, sizeof *G.terr);
	if (!G.terr)
		die_engine(FIELDSYNC_ENOMEM, "out of memory");
	if (tnames) {
		const char *p = tnames;
		for (;;) {
			const char *e = strchr(p, ',');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			while (len > 0 && (*p == ' ' || *p == '\t'))	/* "A, B" */
				p++, len--;
			while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
				len--;
			if (len == 0)
				die_usage("--territory: empty name in '%s'", tnames);
			if (len > 64)
				die_usage("--territory: '%.*s' is longer than 64 bytes", (int)len, p);
			if (nt == MAX_TERRITORIES)
				die_usage("--territory: more than %d names", MAX_TERRITORIES);
			snprintf(G.terr[nt].name, sizeof G.terr[nt].name, "%.*s", (int)len, p);
			for (int j = 0; j < nt; j++)
				if (!strcmp(G.terr[j].name, G.terr[nt].name))
					die_usage("--territory: '%s' given twice", G.terr[nt].name);
			nt++;
			if (!e)
				break;
			p = e + 1;
		}
	} else {
		nt = (int)(nterr < 0 ? 3 : nterr);
		for (int t = 0; t < nt; t++)
			snprintf(G.terr[t].name, sizeof G.terr[t].name, "%s-%d", cities[t % NCITIES].code,
				 t / NCITIES + 1);
	}
	for (int t = 0; t < nt; t++) {
		struct territory *T = &G.terr[t];
		fieldsync_rec *probe;
		int rc = fieldsync_rec_new("customer", &probe);
		if (rc)
			die_engine(rc, "customer");
		rc = fieldsync_rec_set(probe, "territory", T->name);
		fieldsync_rec_free(probe);
		if (rc)
			die_usage("--territory: %s", fieldsync_errmsg());
		T->c = &cities[t % NCITIES];
		/* code prefix: the name's letters and digits, unique among territories */
		size_t k = 0;
		for (const char *q = T->name; *q && k < 12; q++)
			if ((*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9'))
				T->prefix[k++] = *q;
			else if (*q >= 'a' && *q <= 'z')
				T->prefix[k++] = (char)(*q - 32);
		T->prefix[k] = '\0';
		if (k == 0)
			snprintf(T->prefix, sizeof T->prefix, "T%d", t + 1);
		for (int j = 0; j < t; j++)
			if (!strcmp(G.terr[j].prefix, T->prefix)) {
				char tmp[24];
				snprintf(tmp, sizeof tmp, "%.12sT%d", T->prefix, t + 1);
				memcpy(T->prefix, tmp, sizeof tmp);
				j = -1;	/* check again */
			}
		T->first = (int)(ncust * t / nt);
		T->count = (int)(ncust * (t + 1) / nt) - T->first;
		rng r;
		struct person rep;
		rseed(&r, seed, S_TERR, (uint64_t)t);
		make_person(&r, T->c->loc, 0, &rep);
		snprintf(T->rep, sizeof T->rep, "%s", rep.name);
	}

	/* positions and the standing route order */
	G.cust = calloc((size_t)ncust + 1, sizeof *G.cust);
	G.contact_id = malloc(((size_t)ncont + 1) * sizeof *G.contact_id);
	G.nmask = 1024;
	while (G.nmask < (size_t)ncust * 2)
		G.nmask <<= 1;
	G.names = calloc(G.nmask, sizeof *G.names);
	G.nmask--;
	if (!G.cust || !G.contact_id || !G.names)
		die_engine(FIELDSYNC_ENOMEM, "out of memory");
	for (int t = 0; t < nt; t++) {
		struct territory *T = &G.terr[t];
		for (int k = 0; k < T->count; k++) {
			struct cust *c = &G.cust[T->first + k];
			c->terr = t;
			place(seed, T->first + k, T->c, &c->lat, &c->lon);
		}
		if (route_order(T, G.cust))
			die_engine(FIELDSYNC_ENOMEM, "out of memory");
	}
	/* contacts: one at a time to a random customer that has fewer than 4 */
	{
		int *open = malloc(((size_t)ncust + 1) * sizeof *open);
		if (!open)
			die_engine(FIELDSYNC_ENOMEM, "out of memory");
		int nopen = (int)ncust;
		for (int i = 0; i < nopen; i++)
			open[i] = i;
		rng r;
		rseed(&r, seed, S_CCOUNT, 0);
		for (long long k = 0; k < ncont; k++) {
			int j = (int)below(&r, (uint32_t)nopen), ci = open[j];
			if (++G.cust[ci].nc == 4)
				open[j] = open[--nopen];
		}
		free(open);
		int at = 0;
		for (long long i = 0; i < ncust; i++) {
			G.cust[i].c0 = at;
			at += G.cust[i].nc;
		}
	}

	int rc = fieldsync_open(db, FIELDSYNC_OPEN_CREATE, &G.s);
	if (rc)
		die_engine(rc, db);
	/* refuse to write the same codes twice into one store */
	for (int t = 0; t < nt; t++) {
		char key[48], id[33];
		if (!G.terr[t].count)
			continue;
		snprintf(key, sizeof key, "%s-%06d", G.terr[t].prefix, 1);
		rc = fieldsync_lookup(G.s, "customer", key, id);
		if (rc == 0) {
			fprintf(stderr, "gen: %s already has a customer %s; use a new --db\n", db, key);
			cleanup();
			return 1;
		}
		if (rc != FIELDSYNC_ENOTFOUND)
			die_engine(rc, "lookup");
	}

	G.progress = !G.quiet && isatty(2);
	clock_gettime(CLOCK_MONOTONIC, &G.t0);
	G.tlast = G.t0;
	if ((rc = fieldsync_begin(G.s)))
		die_engine(rc, "begin");

	struct counts n = { 0 };
	for (int t = 0; t < nt; t++) {
		struct territory *T = &G.terr[t];
		for (int k = 0; k < T->count; k++) {
			int i = T->first + k;
			struct cust *c = &G.cust[i];
			gen_customer(seed, i, T, k + 1, c);
			n.customers++;
			for (int j = 0; j < c->nc; j++) {
				gen_contact(seed, c->c0 + j, T->c, c, j);
				n.contacts++;
			}
		}
	}

	/* visit history, in date order */
	if (nvis > 0) {
		static const int gw[] = { 4, 2, 1, 8 };		/* by grade */
		static const int sw[] = { 2, 6, 10, 8, 4 };	/* by status */
		G.cum = malloc((size_t)ncust * sizeof *G.cum);
		G.vs = malloc((size_t)nvis * sizeof *G.vs);
		if (!G.cum || !G.vs)
			die_engine(FIELDSYNC_ENOMEM, "out of memory");
		int tot = 0;
		for (long long i = 0; i < ncust; i++) {
			tot += gw[G.cust[i].grade] * sw[G.cust[i].status];
			G.cum[i] = tot;
		}
		for (long long i = 0; i < nvis; i++) {
			rng r;
			rseed(&r, seed, S_VSPEC, (uint64_t)i);
			int x = (int)below(&r, (uint32_t)tot), lo = 0, hi = (int)ncust - 1;
			while (lo < hi) {
				int mid = (lo + hi) / 2;
				if (G.cum[mid] > x)
					hi = mid;
				else
					lo = mid + 1;
			}
			int st = G.cust[lo].status;
			long from = st == ST_LAPSED ? 181 : 1, to = st == ST_NEW ? 365 : 1095;
			G.vs[i].cust = lo;
			G.vs[i].idx = (int)i;
			G.vs[i].day = weekday_near(&r, today - to, today - from);
			G.vs[i].minute = 8 * 60 + 30 + 5 * (int)below(&r, 109);
		}
		qsort(G.vs, (size_t)nvis, sizeof *G.vs, vs_cmp);
		for (long long i = 0; i < nvis; i++)
			gen_visit(seed, &G.vs[i], today, &n);
	}

	/* plans: the day's route in each territory, then a few over two weeks */
	for (int t = 0; t < nt; t++) {
		struct territory *T = &G.terr[t];
		int *pool = malloc(((size_t)T->count + 1) * sizeof *pool), np = 0;
		if (!pool)
			die_engine(FIELDSYNC_ENOMEM, "out of memory");
		for (int k = 0; k < T->count; k++)
			if (G.cust[T->first + k].status != ST_LAPSED)
				pool[np++] = T->first + k;
		rng r;
		rseed(&r, seed, S_PLAN, (uint64_t)t);
		int want = (int)(nplans < np ? nplans : np);
		for (int k = 0; k < want; k++) {	/* partial shuffle */
			int j = k + (int)below(&r, (uint32_t)(np - k)), tmp = pool[k];
			pool[k] = pool[j];
			pool[j] = tmp;
		}
		qsort(pool, (size_t)want, sizeof *pool, seq_cmp);
		int step = want ? 480 / want : 0;
		step = step > 45 ? 45 : step < 10 ? 10 : step;
		for (int k = 0; k < want; k++) {
			int minute = 9 * 60 + k * step;
			gen_plan(&r, &G.cust[pool[k]], today, minute > 23 * 60 + 59 ? 23 * 60 + 59 : minute, k + 1);
		}
		T->plans_today = want;
		int later = (want + 2) / 3;
		for (int k = 0; k < later; k++) {
			long day = weekday_near(&r, today + 1, today + 14);
			int who = pool[below(&r, (uint32_t)np)];
			int minute = 9 * 60 + 15 * between(&r, 0, 32);
			gen_plan(&r, &G.cust[who], day, minute, 0);
		}
		T->plans_later = later;
		n.plans += want + later;
		n.plans_today += want;
		free(pool);
	}

	if ((rc = fieldsync_commit(G.s)))
		die_engine(rc, "commit");
	double secs = elapsed(&G.t0);
	long long records = n.customers + n.contacts + n.visits + n.lines + n.payments + n.plans;
	double rate = secs > 0 ? (double)records / secs : 0;
	if (G.progress)
		fputs("\r\033[K", stderr);
#define PL(k) (k), (k) == 1 ? "" : "s"
	if (!G.quiet)
		fprintf(stderr,
			"generated %lld customer%s, %lld contact%s, %lld visit%s (%lld order line%s,"
			" %lld payment%s), %lld plan%s (%lld on %s) in %d territor%s in %.1f s (%.0f records/s)\n",
			PL(n.customers), PL(n.contacts), PL(n.visits), PL(n.lines), PL(n.payments),
			PL(n.plans), n.plans_today, date, nt, nt == 1 ? "y" : "ies", secs, rate);
#undef PL
	if (json) {
		printf("{\"seed\": %llu, \"date\": \"%s\", \"customers\": %lld, \"contacts\": %lld,"
		       " \"visits\": %lld, \"order_lines\": %lld, \"payments\": %lld, \"plans\": %lld,"
		       " \"plans_on_date\": %lld, \"records\": %lld, \"seconds\": %.3f,"
		       " \"records_per_second\": %.0f, \"territories\": [",
		       (unsigned long long)seed, date, n.customers, n.contacts, n.visits, n.lines,
		       n.payments, n.plans, n.plans_today, records, secs, rate);
		for (int t = 0; t < nt; t++) {
			printf("%s{\"name\": ", t ? ", " : "");
			json_str(stdout, G.terr[t].name);
			printf(", \"city\": ");
			json_str(stdout, G.terr[t].c->name);
			printf(", \"customers\": %d, \"plans_on_date\": %d, \"plans_later\": %d}",
			       G.terr[t].count, G.terr[t].plans_today, G.terr[t].plans_later);
		}
		printf("]}\n");
	}
	cleanup();
	return 0;
}
