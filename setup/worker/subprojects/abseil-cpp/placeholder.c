/* Placeholder so the link_whole library the worker expects has a source; the real library comes through the dependency. */
void mimamori_abseil_cpp_placeholder(void) {}
