// libpng (Debian's libpng-dev), plus a decoder and encoder shim: libpng reports errors by longjmp,
// which Swift cannot do, so every libpng call runs here behind setjmp and returns 0 / -1 / -2.
#ifndef SAM2_CPNG_SHIM_H
#define SAM2_CPNG_SHIM_H

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <setjmp.h>
#include <png.h>

#define SAM2_PNG_ERRBUF_SIZE 256

/// A decoded PNG with as little conversion as possible, so that Swift can convert exactly as PIL does:
/// samples below 8 bits are unpacked to one byte each (gray scaled to 0...255 as PIL does, palette
/// indices kept), 16-bit samples are kept big-endian, alpha and tRNS are left alone.
typedef struct sam2_png_result {
    int width;
    int height;
    /// PNG_COLOR_TYPE_GRAY (0), RGB (2), PALETTE (3), GRAY_ALPHA (4) or RGB_ALPHA (6).
    int color_type;
    /// 8 or 16 (bytes per sample 1 or 2).
    int bit_depth;
    int channels;
    size_t row_bytes;
    /// height * row_bytes bytes, malloc'd; free with sam2_png_free.
    unsigned char *pixels;
    /// Palette as RGB triples (num_palette entries) for PNG_COLOR_TYPE_PALETTE.
    unsigned char palette[256 * 3];
    int num_palette;
    /// Contents of the eXIf chunk (a TIFF header, no "Exif\0\0" prefix), malloc'd, NULL if none.
    unsigned char *exif;
    unsigned long exif_length;
} sam2_png_result;

typedef struct sam2_png_reader {
    const unsigned char *data;
    size_t size;
    size_t offset;
    int truncated;
} sam2_png_reader;

typedef struct sam2_png_writer {
    unsigned char *data;
    size_t size;
    size_t capacity;
    int failed;
} sam2_png_writer;

static inline void sam2_png_error_fn(png_structp png, png_const_charp message) {
    char *errbuf = (char *)png_get_error_ptr(png);
    snprintf(errbuf, SAM2_PNG_ERRBUF_SIZE, "%s", message);
    png_longjmp(png, 1);
}

static inline void sam2_png_warning_fn(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

static inline void sam2_png_read_fn(png_structp png, png_bytep out, size_t length) {
    sam2_png_reader *reader = (sam2_png_reader *)png_get_io_ptr(png);
    if (length > reader->size - reader->offset) {
        reader->truncated = 1;
        png_error(png, "truncated PNG data (premature end of file)");
    }
    memcpy(out, reader->data + reader->offset, length);
    reader->offset += length;
}

static inline void sam2_png_free(sam2_png_result *result) {
    if (result == NULL) return;
    free(result->pixels);
    free(result->exif);
    result->pixels = NULL;
    result->exif = NULL;
    result->exif_length = 0;
}

/// Copies the eXIf chunk into result->exif if libpng has seen one and it was not copied yet.
static inline void sam2_png_copy_exif(png_structp png, png_infop info, sam2_png_result *result) {
#ifdef PNG_eXIf_SUPPORTED
    png_uint_32 num_exif = 0;
    png_bytep exif = NULL;
    if (result->exif != NULL) return;
    if ((png_get_eXIf_1(png, info, &num_exif, &exif) & PNG_INFO_eXIf) && exif != NULL && num_exif > 0) {
        result->exif = (unsigned char *)malloc(num_exif);
        if (result->exif != NULL) {
            memcpy(result->exif, exif, num_exif);
            result->exif_length = num_exif;
        }
    }
#else
    (void)png;
    (void)info;
    (void)result;
#endif
}

/// Decodes a PNG from memory. Returns 0 on success, -1 on a libpng error (message in errbuf,
/// SAM2_PNG_ERRBUF_SIZE bytes; *truncated set to 1 when the data ended early), -2 when width or
/// height exceeds max_dimension or width * height exceeds max_pixels (result->width/height set,
/// nothing allocated). Errors in chunks after the image data (e.g. a missing IEND) are ignored.
static inline int sam2_png_decode(const unsigned char *data, size_t size,
                                  long max_dimension, long long max_pixels,
                                  sam2_png_result *result, int *truncated, char *errbuf) {
    png_structp png;
    png_infop info;
    sam2_png_reader reader = { data, size, 0, 0 };
    unsigned char *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    volatile int image_done = 0;

    memset(result, 0, sizeof(*result));
    *truncated = 0;
    errbuf[0] = 0;
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        snprintf(errbuf, SAM2_PNG_ERRBUF_SIZE, "not a PNG signature");
        return -1;
    }
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, errbuf, sam2_png_error_fn, sam2_png_warning_fn);
    if (png == NULL) {
        snprintf(errbuf, SAM2_PNG_ERRBUF_SIZE, "out of memory");
        return -1;
    }
    info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(errbuf, SAM2_PNG_ERRBUF_SIZE, "out of memory");
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        if (image_done) {
            png_destroy_read_struct(&png, &info, NULL);
            errbuf[0] = 0;
            return 0;
        }
        *truncated = reader.truncated;
        free(pixels);
        free(result->exif);
        result->exif = NULL;
        result->exif_length = 0;
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_set_read_fn(png, &reader, sam2_png_read_fn);
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, NULL, NULL, NULL);
    result->width = (int)width;
    result->height = (int)height;
    if ((long)width > max_dimension || (long)height > max_dimension ||
        (long long)width * (long long)height > max_pixels) {
        png_destroy_read_struct(&png, &info, NULL);
        return -2;
    }

    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_colorp palette = NULL;
        int num_palette = 0;
        if (png_get_PLTE(png, info, &palette, &num_palette) & PNG_INFO_PLTE) {
            if (num_palette > 256) num_palette = 256;
            for (int i = 0; i < num_palette; i++) {
                result->palette[3 * i] = palette[i].red;
                result->palette[3 * i + 1] = palette[i].green;
                result->palette[3 * i + 2] = palette[i].blue;
            }
            result->num_palette = num_palette;
        }
        if (bit_depth < 8) png_set_packing(png);
    } else if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) {
        png_set_expand_gray_1_2_4_to_8(png);
    }
    int passes = png_set_interlace_handling(png);
    (void)passes;
    png_read_update_info(png, info);

    result->color_type = png_get_color_type(png, info);
    result->bit_depth = png_get_bit_depth(png, info);
    result->channels = png_get_channels(png, info);
    result->row_bytes = png_get_rowbytes(png, info);

    pixels = (unsigned char *)malloc(result->row_bytes * (size_t)height);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * (size_t)height);
    if (pixels == NULL || rows == NULL) {
        png_error(png, "out of memory");
    }
    for (png_uint_32 y = 0; y < height; y++) {
        rows[y] = pixels + (size_t)y * result->row_bytes;
    }
    png_read_image(png, rows);
    result->pixels = pixels;
    image_done = 1;

    /* eXIf may come before the image data or after it (read by png_read_end). */
    sam2_png_copy_exif(png, info, result);
    png_read_end(png, info);
    sam2_png_copy_exif(png, info, result);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

static inline void sam2_png_write_fn(png_structp png, png_bytep data, size_t length) {
    sam2_png_writer *writer = (sam2_png_writer *)png_get_io_ptr(png);
    if (writer->size + length > writer->capacity) {
        size_t capacity = writer->capacity ? writer->capacity : 4096;
        while (capacity < writer->size + length) capacity *= 2;
        unsigned char *grown = (unsigned char *)realloc(writer->data, capacity);
        if (grown == NULL) {
            writer->failed = 1;
            png_error(png, "out of memory");
        }
        writer->data = grown;
        writer->capacity = capacity;
    }
    memcpy(writer->data + writer->size, data, length);
    writer->size += length;
}

static inline void sam2_png_flush_fn(png_structp png) {
    (void)png;
}

/// Encodes 8-bit rows (height * width * channels bytes, contiguous) as a PNG in memory.
/// color_type: PNG_COLOR_TYPE_GRAY, RGB, RGB_ALPHA or PALETTE (then palette holds num_palette RGB
/// triples). Returns 0 and a malloc'd buffer in *out / *out_length (free with free()), or -1 with a
/// message in errbuf.
static inline int sam2_png_encode(const unsigned char *pixels, int width, int height, int color_type,
                                  const unsigned char *palette, int num_palette,
                                  unsigned char **out, size_t *out_length, char *errbuf) {
    png_structp png;
    png_infop info;
    sam2_png_writer writer = { NULL, 0, 0, 0 };
    png_bytep *volatile rows = NULL;
    int channels;

    *out = NULL;
    *out_length = 0;
    errbuf[0] = 0;
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: channels = 1; break;
    case PNG_COLOR_TYPE_RGB: channels = 3; break;
    case PNG_COLOR_TYPE_RGB_ALPHA: channels = 4; break;
    case PNG_COLOR_TYPE_PALETTE: channels = 1; break;
    default:
        snprintf(errbuf, SAM2_PNG_ERRBUF_SIZE, "unsupported color type %d", color_type);
        return -1;
    }
    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, errbuf, sam2_png_error_fn, sam2_png_warning_fn);
    if (png == NULL) {
        snprintf(errbuf, SAM2_PNG_ERRBUF_SIZE, "out of memory");
        return -1;
    }
    info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        snprintf(errbuf, SAM2_PNG_ERRBUF_SIZE, "out of memory");
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(writer.data);
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_set_write_fn(png, &writer, sam2_png_write_fn, sam2_png_flush_fn);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, color_type,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color entries[256];
        if (num_palette < 1 || num_palette > 256) png_error(png, "palette must have 1...256 entries");
        for (int i = 0; i < num_palette; i++) {
            entries[i].red = palette[3 * i];
            entries[i].green = palette[3 * i + 1];
            entries[i].blue = palette[3 * i + 2];
        }
        png_set_PLTE(png, info, entries, num_palette);
    }
    png_write_info(png, info);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * (size_t)(height > 0 ? height : 1));
    if (rows == NULL) png_error(png, "out of memory");
    size_t stride = (size_t)width * (size_t)channels;
    for (int y = 0; y < height; y++) {
        rows[y] = (png_bytep)(pixels + (size_t)y * stride);
    }
    png_write_image(png, rows);
    png_write_end(png, info);
    free(rows);
    png_destroy_write_struct(&png, &info);
    *out = writer.data;
    *out_length = writer.size;
    return 0;
}

#endif
