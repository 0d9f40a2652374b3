// The translation unit that carries the test programs' shared precompiled
// header (tests/CMakeLists.txt, orchsim_test_pch); it has no code of its own.
