// Picks the sam2_kernels table for this CPU once: AVX-512 where the CPU and the operating system
// run it, unless SAM2_KERNELS=generic asks for the portable one (for comparisons).
#include <stdlib.h>
#include <string.h>

#include "sam2_kernels.h"

int sam2_kernels_avx512_supported(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

const sam2_kernels_table *sam2_kernels(void) {
    static const sam2_kernels_table *chosen;
    const sam2_kernels_table *table = __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);
    if (!table) {
        const char *forced = getenv("SAM2_KERNELS");
        int generic = forced && strcmp(forced, "generic") == 0;
        table = !generic && sam2_kernels_avx512_supported() ? &sam2_kernels_avx512 : &sam2_kernels_generic;
        __atomic_store_n(&chosen, table, __ATOMIC_RELEASE);
    }
    return table;
}
