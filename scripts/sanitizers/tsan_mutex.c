// ThreadSanitizer and Swift's Synchronization.Mutex on Linux (scripts/sanitize.sh thread preloads
// this). Mutex locks and unlocks with an atomic compare-and-exchange in the caller's code, which
// ThreadSanitizer sees, but when the lock is contended it spins in, or sleeps through, functions of
// libswiftSynchronization.so (a spin on the lock word, then futex FUTEX_LOCK_PI / FUTEX_UNLOCK_PI,
// where the kernel hands the lock over), which ThreadSanitizer does not see: every contended Mutex
// then shows as a "Swift access race" between two critical sections that never overlap. These
// wrappers of the three slow-path functions tell it what they did (acquire after locking, release
// before unlocking) and call the real ones. Real races are still reported.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

void __tsan_acquire(void *address) __attribute__((weak));
void __tsan_release(void *address) __attribute__((weak));

#define SWIFTCALL __attribute__((swiftcall))
#define SWIFTSELF __attribute__((swift_context))
#define LOCK_SLOW "$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF"
#define TRY_LOCK_SLOW "$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF"
#define UNLOCK_SLOW "$s15Synchronization12_MutexHandleV11_unlockSlowyyF"

SWIFTCALL void sam2_lock_slow(uint32_t thread, SWIFTSELF void *handle) __asm__(LOCK_SLOW);
SWIFTCALL bool sam2_try_lock_slow(SWIFTSELF void *handle) __asm__(TRY_LOCK_SLOW);
SWIFTCALL void sam2_unlock_slow(SWIFTSELF void *handle) __asm__(UNLOCK_SLOW);

SWIFTCALL void sam2_lock_slow(uint32_t thread, SWIFTSELF void *handle) {
    static SWIFTCALL void (*real)(uint32_t, SWIFTSELF void *);
    if (real == NULL) real = (SWIFTCALL void (*)(uint32_t, SWIFTSELF void *))dlsym(RTLD_NEXT, LOCK_SLOW);
    real(thread, handle);
    if (__tsan_acquire) __tsan_acquire(handle);
}

SWIFTCALL bool sam2_try_lock_slow(SWIFTSELF void *handle) {
    static SWIFTCALL bool (*real)(SWIFTSELF void *);
    if (real == NULL) real = (SWIFTCALL bool (*)(SWIFTSELF void *))dlsym(RTLD_NEXT, TRY_LOCK_SLOW);
    bool locked = real(handle);
    if (locked && __tsan_acquire) __tsan_acquire(handle);
    return locked;
}

SWIFTCALL void sam2_unlock_slow(SWIFTSELF void *handle) {
    static SWIFTCALL void (*real)(SWIFTSELF void *);
    if (real == NULL) real = (SWIFTCALL void (*)(SWIFTSELF void *))dlsym(RTLD_NEXT, UNLOCK_SLOW);
    if (__tsan_release) __tsan_release(handle);
    real(handle);
}
