/* launch_name.c — launch name validation (see launch_name.h). */
#include "launch_name.h"

bool launch_name_valid(const char *name, size_t len)
{
    if (len == 0 || len > LAUNCH_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}
