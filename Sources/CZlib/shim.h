// zlib (Debian's zlib1g-dev): raw inflate for deflated zip entries.
#include <zlib.h>
