// cache_aligned_allocator.h — a std::allocator replacement whose blocks start
// on a 64-byte (cache line) boundary, so a container can lay out its elements
// in whole cache lines (the heap puts each group of four siblings in one).
#ifndef ORCHSIM_ENGINE_KERNEL_CACHE_ALIGNED_ALLOCATOR_H_
#define ORCHSIM_ENGINE_KERNEL_CACHE_ALIGNED_ALLOCATOR_H_

#include <cstddef>
#include <new>

namespace orchsim::kernel {

inline constexpr size_t kCacheLineBytes = 64;

template <typename T>
struct CacheAlignedAllocator {
  using value_type = T;
  CacheAlignedAllocator() = default;
  template <typename U>
  CacheAlignedAllocator(const CacheAlignedAllocator<U>&) {}  // NOLINT: rebinding

  T* allocate(size_t n) {
    return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{kCacheLineBytes}));
  }
  void deallocate(T* p, size_t) { ::operator delete (p, std::align_val_t{kCacheLineBytes}); }

  template <typename U>
  friend bool operator==(const CacheAlignedAllocator&, const CacheAlignedAllocator<U>&) {
    return true;
  }
};

}  // namespace orchsim::kernel

#endif  // ORCHSIM_ENGINE_KERNEL_CACHE_ALIGNED_ALLOCATOR_H_
