#include "image_codecs.h"
int vision_codecs_version(void) { return 1; }
