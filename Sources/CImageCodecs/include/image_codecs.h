#ifndef VISION_IMAGE_CODECS_H
#define VISION_IMAGE_CODECS_H
// Placeholder; the JPEG/PNG shim is written in codecs.c.
int vision_codecs_version(void);
#endif
