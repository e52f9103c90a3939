/* A minimal image in bzImage format for the host-lane VMM test: a real
 * setup header (protocol 2.15, 64-bit entry, relocatable) followed by a
 * tiny 64-bit "kernel".  hull enters it like Linux, at load address +
 * 0x200 in long mode with RSI = zero page; it prints a greeting, the
 * command line found through boot_params.hdr.cmd_line_ptr and the e820
 * entry count, then resets through the i8042 ("hull.test=t": triple
 * fault).  Built with objcopy -O binary, so offsets below are file
 * offsets. */
  .section .text
  .code16
start:
  .org 0x1f1
  .byte 1                      /* setup_sects: kernel at 2 * 512 */
  .word 0                      /* root_flags */
  .long 0                      /* syssize: unchecked when 0 */
  .org 0x1fe
  .word 0xaa55                 /* boot_flag */
  .byte 0xeb, 0x66             /* jump: header ends at 0x268 */
  .ascii "HdrS"
  .word 0x020f                 /* protocol 2.15 */
  .org 0x211
  .byte 0x01                   /* loadflags: LOADED_HIGH */
  .org 0x22c
  .long 0x7fffffff             /* initrd_addr_max */
  .long 0x200000               /* kernel_alignment */
  .byte 1                      /* relocatable_kernel */
  .byte 21                     /* min_alignment */
  .word 0x0001                 /* xloadflags: XLF_KERNEL_64 */
  .long 2047                   /* cmdline_size */
  .org 0x258
  .quad 0x1000000              /* pref_address */
  .long 0x100000               /* init_size */

  .org 0x400                   /* protected-mode kernel starts here */
kernel:
  .code64
  .org 0x600                   /* 64-bit entry = kernel + 0x200 */
entry64:
  movq %rsi, %rbx              /* zero page */
  leaq 0x90000, %rsp
  leaq hello(%rip), %rsi
  call puts
  movl 0x228(%rbx), %esi       /* hdr.cmd_line_ptr */
  movq %rsi, %rbp
  call puts
  leaq e820msg(%rip), %rsi
  call puts
  movzbl 0x1e8(%rbx), %eax     /* e820_entries, printed as one digit */
  addb $'0', %al
  movw $0x3f8, %dx
  outb %al, %dx
  movb $'\n', %al
  outb %al, %dx

  movq %rbp, %rsi              /* look for "hull.test=t" */
scan:
  cmpb $0, (%rsi)
  je reset
  movq %rsi, %rbp
  leaq key(%rip), %rdi
  movl $10, %ecx
  repe cmpsb
  je found
  movq %rbp, %rsi
  incq %rsi
  jmp scan
found:
  cmpb $'t', (%rsi)
  jne reset
  lidt null_idt(%rip)
  ud2
reset:
  movb $0xfe, %al
  outb %al, $0x64
1:pause
  jmp 1b

puts:
  movb (%rsi), %al
  testb %al, %al
  jz 2f
  movw $0x3f8, %dx
  outb %al, %dx
  incq %rsi
  jmp puts
2:ret

hello:   .asciz "hello from the bzImage payload, cmdline: "
e820msg: .asciz "\ne820 entries: "
key:     .ascii "hull.test="
  .align 8
null_idt: .word 0
  .quad 0
