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

/// Largest ancillary chunk (text, ICC profile, EXIF, ...) read: libpng refuses bigger ones before
/// allocating for them, so that a chunk header claiming 2 GB costs nothing.
#define SAM2_PNG_CHUNK_MAX (8 << 20)
/// Most ancillary chunks of the kinds libpng stores (text, sPLT, unknown) kept.
#define SAM2_PNG_CHUNK_COUNT_MAX 1000

/// A PNG being decoded row by row from memory, with as little conversion as possible so that Swift
/// converts exactly as PIL does: samples below 8 bits are unpacked to one byte each (gray scaled to
/// 0...255 as PIL does, palette indices kept), 16-bit samples stay big-endian, alpha and tRNS are
/// left alone. Fields after `sam2_png_open` describe the rows `sam2_png_read_rows` produces.
typedef struct sam2_png_decoder {
    png_structp png;
    png_infop info;
    sam2_png_reader reader;
    char errbuf[SAM2_PNG_ERRBUF_SIZE];
    int width;
    int height;
    /// PNG_COLOR_TYPE_GRAY (0), RGB (2), PALETTE (3), GRAY_ALPHA (4) or RGB_ALPHA (6).
    int color_type;
    /// 8 or 16 (bytes per sample 1 or 2).
    int bit_depth;
    int channels;
    size_t row_bytes;
    /// Adam7: rows can only be read all at once (every pass revisits them).
    int interlaced;
    /// Palette as RGB triples (num_palette entries) for PNG_COLOR_TYPE_PALETTE.
    unsigned char palette[256 * 3];
    int num_palette;
    /// Contents of the eXIf chunk (a TIFF header, no "Exif\0\0" prefix), malloc'd, NULL if none.
    unsigned char *exif;
    unsigned long exif_length;
} sam2_png_decoder;

/// Copies the eXIf chunk into d->exif if libpng has seen one and it was not copied yet.
static inline void sam2_png_copy_exif(sam2_png_decoder *d) {
#ifdef PNG_eXIf_SUPPORTED
    png_uint_32 num_exif = 0;
    png_bytep exif = NULL;
    if (d->exif != NULL) return;
    if ((png_get_eXIf_1(d->png, d->info, &num_exif, &exif) & PNG_INFO_eXIf) && exif != NULL && num_exif > 0) {
        d->exif = (unsigned char *)malloc(num_exif);
        if (d->exif != NULL) {
            memcpy(d->exif, exif, num_exif);
            d->exif_length = num_exif;
        }
    }
#else
    (void)d;
#endif
}

/// libpng's allocations go through here: none may exceed SAM2_PNG_CHUNK_MAX (rows, zlib state and
/// the chunks read stay far below it), so a chunk claiming gigabytes fails instead of being allocated.
static inline png_voidp sam2_png_malloc(png_structp png, png_alloc_size_t size) {
    (void)png;
    return size > SAM2_PNG_CHUNK_MAX ? NULL : malloc(size);
}

static inline void sam2_png_free_fn(png_structp png, png_voidp pointer) {
    (void)png;
    free(pointer);
}

/// Frees everything the decoder holds (safe to call more than once).
static inline void sam2_png_close(sam2_png_decoder *d) {
    if (d->png != NULL) png_destroy_read_struct(&d->png, d->info != NULL ? &d->info : NULL, NULL);
    d->png = NULL;
    d->info = NULL;
    free(d->exif);
    d->exif = NULL;
    d->exif_length = 0;
}

/// Reads the signature and the chunks before the image data, and sets up the conversions. Returns 0,
/// -1 on a libpng error (message in d->errbuf; d->reader.truncated set when the data ended early), or
/// -2 when width or height exceeds max_dimension or width * height exceeds max_pixels (d->width and
/// d->height set, nothing allocated for the pixels). Call sam2_png_close afterwards in every case.
static inline int sam2_png_open(sam2_png_decoder *d, const unsigned char *data, size_t size,
                                long max_dimension, long long max_pixels) {
    memset(d, 0, sizeof(*d));
    d->reader.data = data;
    d->reader.size = size;
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        snprintf(d->errbuf, SAM2_PNG_ERRBUF_SIZE, "not a PNG signature");
        return -1;
    }
    d->png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, d->errbuf, sam2_png_error_fn, sam2_png_warning_fn,
                                      NULL, sam2_png_malloc, sam2_png_free_fn);
    if (d->png != NULL) d->info = png_create_info_struct(d->png);
    if (d->png == NULL || d->info == NULL) {
        snprintf(d->errbuf, SAM2_PNG_ERRBUF_SIZE, "out of memory");
        return -1;
    }
    if (setjmp(png_jmpbuf(d->png))) return -1;
    png_set_chunk_malloc_max(d->png, SAM2_PNG_CHUNK_MAX);
    png_set_chunk_cache_max(d->png, SAM2_PNG_CHUNK_COUNT_MAX);
    /* Chunks nothing here reads are skipped unread (libpng would buffer a text chunk whole). */
    static const png_byte ignored[] = "tEXt\0zTXt\0iTXt\0iCCP\0sPLT\0";
    png_set_keep_unknown_chunks(d->png, PNG_HANDLE_CHUNK_NEVER, ignored, 5);
    png_set_read_fn(d->png, &d->reader, sam2_png_read_fn);
    png_read_info(d->png, d->info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(d->png, d->info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    d->width = (int)width;
    d->height = (int)height;
    if ((long)width > max_dimension || (long)height > max_dimension ||
        (long long)width * (long long)height > max_pixels) {
        return -2;
    }
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_colorp palette = NULL;
        int num_palette = 0;
        if (png_get_PLTE(d->png, d->info, &palette, &num_palette) & PNG_INFO_PLTE) {
            if (num_palette > 256) num_palette = 256;
            for (int i = 0; i < num_palette; i++) {
                d->palette[3 * i] = palette[i].red;
                d->palette[3 * i + 1] = palette[i].green;
                d->palette[3 * i + 2] = palette[i].blue;
            }
            d->num_palette = num_palette;
        }
        if (bit_depth < 8) png_set_packing(d->png);
    } else if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) {
        png_set_expand_gray_1_2_4_to_8(d->png);
    }
    d->interlaced = png_set_interlace_handling(d->png) > 1;
    png_read_update_info(d->png, d->info);
    d->color_type = png_get_color_type(d->png, d->info);
    d->bit_depth = png_get_bit_depth(d->png, d->info);
    d->channels = png_get_channels(d->png, d->info);
    d->row_bytes = png_get_rowbytes(d->png, d->info);
    sam2_png_copy_exif(d);
    return 0;
}

/// Reads the next `count` rows into rows[0..<count] (row_bytes each). An interlaced image must be
/// read in one call with all its rows. Returns 0 or -1 (message in d->errbuf).
static inline int sam2_png_read_rows(sam2_png_decoder *d, unsigned char **rows, int count) {
    if (setjmp(png_jmpbuf(d->png))) return -1;
    if (d->interlaced) {
        png_read_image(d->png, rows);
    } else {
        png_read_rows(d->png, rows, NULL, (png_uint_32)count);
    }
    return 0;
}

/// Reads the chunks after the image data (an eXIf chunk may come there); errors there are ignored,
/// as PIL ignores them once the pixels are read.
static inline void sam2_png_finish(sam2_png_decoder *d) {
    if (setjmp(png_jmpbuf(d->png))) return;
    png_read_end(d->png, d->info);
    sam2_png_copy_exif(d);
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
