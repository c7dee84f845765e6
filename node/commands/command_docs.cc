// COMMAND INFO / DOCS reply building (skeleton until the introspection work lands).
#include "node/commands/command.h"
