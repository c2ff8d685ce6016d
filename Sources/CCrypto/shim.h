// OpenSSL's libcrypto (Debian's libssl-dev), for the SHA-256 of downloads: its EVP digest API.
#ifndef SAM2_CCRYPTO_SHIM_H
#define SAM2_CCRYPTO_SHIM_H

#include <openssl/evp.h>

/// A SHA-256 context, ready for data; NULL when out of memory.
static inline EVP_MD_CTX *sam2_sha256_new(void) {
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    if (context != NULL && EVP_DigestInit_ex(context, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(context);
        return NULL;
    }
    return context;
}

#endif
