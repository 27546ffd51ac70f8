package domain

// DefaultCurrency is the currency of a ticket listed without one.
const DefaultCurrency = "eur"

// supportedCurrencies are the ISO 4217 codes Stripe accepts as a charge's
// currency (https://docs.stripe.com/currencies), lower-case as Stripe
// wants them. A ticket priced in anything else could never be paid for.
var supportedCurrencies = setOf(
	"aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn",
	"bam", "bbd", "bdt", "bgn", "bif", "bmd", "bnd", "bob", "brl", "bsd", "bwp", "byn", "bzd",
	"cad", "cdf", "chf", "clp", "cny", "cop", "crc", "cve", "czk",
	"djf", "dkk", "dop", "dzd", "egp", "etb", "eur",
	"fjd", "fkp", "gbp", "gel", "gip", "gmd", "gnf", "gtq", "gyd",
	"hkd", "hnl", "htg", "huf", "idr", "ils", "inr", "isk",
	"jmd", "jpy", "kes", "kgs", "khr", "kmf", "krw", "kyd", "kzt",
	"lak", "lbp", "lkr", "lrd", "lsl",
	"mad", "mdl", "mga", "mkd", "mmk", "mnt", "mop", "mur", "mvr", "mwk", "mxn", "myr", "mzn",
	"nad", "ngn", "nio", "nok", "npr", "nzd",
	"pab", "pen", "pgk", "php", "pkr", "pln", "pyg", "qar",
	"ron", "rsd", "rub", "rwf",
	"sar", "sbd", "scr", "sek", "sgd", "shp", "sle", "sos", "srd", "std", "szl",
	"thb", "tjs", "top", "try", "ttd", "twd", "tzs",
	"uah", "ugx", "usd", "uyu", "uzs", "vnd", "vuv", "wst",
	"xaf", "xcd", "xof", "xpf", "yer", "zar", "zmw",
)

// SupportedCurrency reports whether code is a currency a ticket may be
// priced in.
func SupportedCurrency(code string) bool { return supportedCurrencies[code] }

func setOf(items ...string) map[string]bool {
	set := make(map[string]bool, len(items))
	for _, i := range items {
		set[i] = true
	}
	return set
}
