// inline_function.h — a move-only callable with small-buffer storage only.
//
// The event queue stores one of these per pending event. Captures live inside
// the object (kCapacity bytes), so scheduling an event never allocates; a
// capture that does not fit is a compile-time error telling the caller to
// capture a pointer instead. Move-only so captured resources have one owner.
// Callables that are trivially copyable and destructible (lambdas capturing
// pointers, ints, ...: the common case) move by a plain byte copy with no
// indirect call, which keeps moving events in and out of the queue cheap.
//
// Example:
//   InlineFunction<void()> f = [this, id] { Fire(id); };
//   f();
#ifndef ORCHSIM_ENGINE_KERNEL_INLINE_FUNCTION_H_
#define ORCHSIM_ENGINE_KERNEL_INLINE_FUNCTION_H_

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace orchsim::kernel {

template <typename Signature, size_t kCapacity = 48>
class InlineFunction;

template <typename R, typename... Args, size_t kCapacity>
class InlineFunction<R(Args...), kCapacity> {
 public:
  InlineFunction() = default;

  template <typename F,
            typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, InlineFunction> &&
                                        std::is_invocable_r_v<R, std::decay_t<F>&, Args...>>>
  InlineFunction(F&& f) {  // NOLINT: implicit like std::function
    using Fn = std::decay_t<F>;
    static_assert(sizeof(Fn) <= kCapacity,
                  "callable too large for InlineFunction: capture a pointer or an index instead");
    static_assert(alignof(Fn) <= alignof(std::max_align_t), "over-aligned callable");
    static_assert(std::is_nothrow_move_constructible_v<Fn>, "callable must be nothrow-movable");
    new (storage_) Fn(std::forward<F>(f));
    ops_ = &kOpsFor<Fn>;
  }

  InlineFunction(InlineFunction&& other) noexcept { MoveFrom(other); }
  InlineFunction& operator=(InlineFunction&& other) noexcept {
    if (this != &other) {
      Reset();
      MoveFrom(other);
    }
    return *this;
  }
  InlineFunction(const InlineFunction&) = delete;
  InlineFunction& operator=(const InlineFunction&) = delete;
  ~InlineFunction() { Reset(); }

  explicit operator bool() const { return ops_ != nullptr; }

  // REQUIRES: *this holds a callable.
  R operator()(Args... args) { return ops_->invoke(storage_, std::forward<Args>(args)...); }

  void Reset() {
    if (ops_ != nullptr) {
      if (ops_->destroy != nullptr) ops_->destroy(storage_);
      ops_ = nullptr;
    }
  }

 private:
  struct Ops {
    R (*invoke)(void*, Args&&...);
    // Move-constructs dst from src and destroys src; nullptr when a byte copy
    // does both (trivially copyable and destructible callables).
    void (*move)(void* dst, void* src);
    void (*destroy)(void*);  // nullptr when trivially destructible
  };

  template <typename Fn>
  static constexpr bool kTrivial =
      std::is_trivially_copyable_v<Fn>&& std::is_trivially_destructible_v<Fn>;

  template <typename Fn>
  static constexpr Ops kOpsFor = {
      [](void* p, Args&&... args) -> R {
        return (*static_cast<Fn*>(p))(std::forward<Args>(args)...);
      },
      kTrivial<Fn> ? nullptr
                   : +[](void* dst, void* src) {
                       new (dst) Fn(std::move(*static_cast<Fn*>(src)));
                       static_cast<Fn*>(src)->~Fn();
                     },
      kTrivial<Fn> ? nullptr : +[](void* p) { static_cast<Fn*>(p)->~Fn(); }};

  void MoveFrom(InlineFunction& other) noexcept {
    if (other.ops_ != nullptr) {
      if (other.ops_->move != nullptr) {
        other.ops_->move(storage_, other.storage_);
      } else {
        std::memcpy(storage_, other.storage_, kCapacity);
      }
      ops_ = other.ops_;
      other.ops_ = nullptr;
    }
  }

  alignas(std::max_align_t) unsigned char storage_[kCapacity];
  const Ops* ops_ = nullptr;
};

}  // namespace orchsim::kernel

#endif  // ORCHSIM_ENGINE_KERNEL_INLINE_FUNCTION_H_
