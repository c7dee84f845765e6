// Directive table (skeleton until the config module lands).
#include "node/config/config.h"
