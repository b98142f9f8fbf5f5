/* nop: exits at once (spawn+exit benchmark). */
int main(long arg)
{
    (void)arg;
    return 0;
}
