/* fuzz_cat_dotnet.c - libFuzzer target: the .NET cataloger on an
 * application's *.deps.json (body in fuzz_cat.h).  Owner: fuzz. */
#define FUZZ_CAT sc_cat_dotnet
#define FUZZ_CAT_PATH "app/MyApp.deps.json"
#define FUZZ_CAT_MODE (S_IFREG | 0644)
#include "fuzz_cat.h"
