/*  odc_tsan: tell ThreadSanitizer about hand-overs it cannot see.

    ZeroMQ moves a message's buffer from one thread to another through
    lock-free queues inside libzmq, which is not instrumented: ThreadSanitizer
    would see the sender write a buffer and the receiver read it with no
    ordering between them, and report a race that is not there. The sender
    marks the hand-over with ODC_TSAN_RELEASE (address) before sending, the
    receiver with ODC_TSAN_ACQUIRE (address) after receiving. Both compile to
    nothing outside a ThreadSanitizer build. */
#ifndef ODC_TSAN_H
#define ODC_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define ODC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ODC_TSAN 1
#endif
#endif

#ifdef ODC_TSAN
void __tsan_acquire (void *addr);
void __tsan_release (void *addr);
#define ODC_TSAN_ACQUIRE(addr) __tsan_acquire ((void *)(addr))
#define ODC_TSAN_RELEASE(addr) __tsan_release ((void *)(addr))
#else
#define ODC_TSAN_ACQUIRE(addr) ((void)(addr))
#define ODC_TSAN_RELEASE(addr) ((void)(addr))
#endif

#endif
