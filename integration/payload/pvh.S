/* Freestanding PVH payload for the host-lane VMM test: entered by hull in
 * 32-bit protected mode with EBX = hvm_start_info.  It checks the start
 * info magic, prints a greeting and its command line on COM1, then ends
 * the VM the way "hull.test=X" on the command line asks:
 *   r  reset through the i8042 (0xFE to port 0x64)   -> hull exits 0
 *   h  cli; hlt (the halt-detection path)             -> hull exits 0
 *   t  triple fault                                   -> hull exits 1
 *   l  print "looping" and spin with interrupts off  -> runs until killed
 * Without the option it resets. */
  .code32
  .section .text
  .globl _start
_start:
  movl $0x80000, %esp          /* PVH gives no stack */
  cmpl $0x336ec578, (%ebx)
  jne bad_info
  leal hello, %esi
  call puts
  movl 24(%ebx), %esi          /* cmdline_paddr (low half) */
  movl %esi, %ebp
  call puts
  leal newline, %esi
  call puts

  /* Find "hull.test=" in the command line at %ebp. */
  movl %ebp, %esi
scan:
  cmpb $0, (%esi)
  je do_reset
  movl %esi, %ebp
  leal key, %edi
  movl $10, %ecx
  repe cmpsb
  je found
  movl %ebp, %esi
  incl %esi
  jmp scan
found:
  movb (%esi), %al
  cmpb $'h', %al
  je do_halt
  cmpb $'t', %al
  je do_triple
  cmpb $'l', %al
  je do_loop
do_reset:
  movb $0xfe, %al
  outb %al, $0x64
  jmp spin
do_halt:
  cli
1:hlt
  jmp 1b
do_triple:
  lidt null_idt
  ud2
do_loop:
  leal loopmsg, %esi
  call puts
  cli
  jmp spin
bad_info:
  leal badmsg, %esi
  call puts
  jmp do_triple
spin:
  pause
  jmp spin

puts:
  movb (%esi), %al
  testb %al, %al
  jz 2f
  movw $0x3f8, %dx
  outb %al, %dx
  incl %esi
  jmp puts
2:ret

  .section .rodata
hello:   .asciz "hello from the pvh payload, cmdline: "
badmsg:  .asciz "bad hvm_start_info magic\n"
newline: .asciz "\n"
loopmsg: .asciz "looping\n"
key:     .ascii "hull.test="
  .align 8
null_idt: .word 0
  .long 0

  /* XEN_ELFNOTE_PHYS32_ENTRY: name "Xen", type 18, 32-bit entry. */
  .section .note.Xen, "a"
  .align 4
  .long 4
  .long 4
  .long 18
  .asciz "Xen"
  .long _start
