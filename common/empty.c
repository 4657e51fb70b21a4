/* common/empty.c: placeholder source for a module that has no code yet, so its library target exists. */
typedef int usandbox_empty_translation_unit;
